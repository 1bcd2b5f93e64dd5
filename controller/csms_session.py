"""The protocol-free half of one websocket session with a CSMS, shared by the 1.6 and the 2.0.1
sessions: a peer's bad frame must cost it a CALLERROR and a count, never the link, and nothing
may leave before what it promises is on disk. Both versions need exactly that, so it is written
once here; the protocol's half (its routes, its schema checks, its name for a malformed
answer, the 1.6 boot gate) stays in each adapter's session.

A base class rather than plain functions: the work sits in the `ocpp` library's own hooks
(`route_message`, `call`, `_send`), reached through `super()` on either version's ChargePoint.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Generic, Protocol, TypeVar

from ocpp.charge_point import ChargePoint
from ocpp.exceptions import OCPPError

from controller.durable_writer import DurableWriteError, all_written
from controller.ocpp.frames import FrameKind, Screened, call_error, screen
from controller.ocpp.ports import Connection

log = logging.getLogger(__name__)


class FrameHost(Protocol):
    """What the session tells of every frame (`controller.frame_counts`)."""

    def frame_counted(self, accepted: bool) -> None: ...

    def frame_sent(self) -> None: ...


H = TypeVar("H", bound=FrameHost)


class ScreeningSession(ChargePoint, Generic[H]):  # type: ignore[misc]
    def __init__(self, host: H, station_id: str, connection: Connection, timeout_s: float) -> None:
        super().__init__(station_id, connection, response_timeout=timeout_s)
        self._host = host
        self._awaiting: dict[str, str] = {}  # message id -> action of our CALL
        self._invalid_responses: dict[str, OCPPError] = {}
        self.responses_dropped = 0

    async def _screened(self, raw_msg: str) -> Screened | None:
        """The frame, if the library may see it (see `frames`): a bad CALL gets a CALLERROR,
        a bad answer to our call fails that call now, a response nobody waits for is
        dropped. A frame let through is counted."""
        s = screen(raw_msg)
        if s.error_code is not None:
            if s.kind not in (FrameKind.CALLRESULT, FrameKind.CALLERROR):
                await self._reject_frame(s.message_id, s.error_code, s.error_text)
            elif s.message_id in self._awaiting:
                # Our call must not wait out its timeout for an answer we refused: it fails
                # now, as a CALLERROR, and its caller counts a failed attempt.
                await super().route_message(self._refusal(s.message_id, s.error_text))
            else:
                self._drop_response(s.message_id, s.error_text)
            return None
        if s.kind is FrameKind.CALL and not await self._admitted(s):
            return None
        if s.kind is not FrameKind.CALL and s.message_id not in self._awaiting:
            # The library looks for its answer by recursing once per queued stray response
            # (RecursionError after ~1000): strays never enter its queue.
            self._drop_response(s.message_id, "no CALL of ours is waiting for it")
            return None
        self._host.frame_counted(True)
        return s

    def _refusal(self, message_id: str, error_text: str) -> str:
        """The CALLERROR handed to the library for an answer we refused: each version names
        a malformed frame in its own words."""
        raise NotImplementedError

    async def _admitted(self, screened: Screened) -> bool:
        """Whether a well-formed CALL goes on to its handler; one refused is answered here."""
        return True

    async def call(
        self,
        payload: Any,
        suppress: bool = True,
        unique_id: str | None = None,
        skip_schema_validation: bool = True,
    ) -> Any:
        """The library's call, remembering which response id we wait for; an answer that
        failed its schema check (`route_message`) is raised from here.

        What we send is not schema-checked here (about 1 ms a message, most of the service's
        CPU while charging): the test suite checks every message the charger sends against the
        same schemas (tests/conftest.py). The CSMS's answer is checked, as the library would,
        because it is input we do not control.
        """
        message_id = unique_id or str(uuid.uuid4())
        self._awaiting[message_id] = type(payload).__name__
        try:
            result = await super().call(
                payload,
                suppress=suppress,
                unique_id=message_id,
                skip_schema_validation=skip_schema_validation,
            )
        except OCPPError:
            invalid = self._invalid_responses.pop(message_id, None)
            if invalid is not None:
                raise invalid from None
            raise
        finally:
            self._awaiting.pop(message_id, None)
        invalid = self._invalid_responses.pop(message_id, None)
        if invalid is not None:
            raise invalid
        return result

    async def _send(self, message: str) -> None:
        """Nothing leaves before the state it promises is on disk: an Accepted, a transaction
        message. Commits run on writer threads (`controller.durable_writer`), so waiting here holds
        back only this message, never the control loop."""
        try:
            await all_written()
        except DurableWriteError as exc:
            frame = json.loads(message)
            if frame[0] == 2:  # a CALL: it is not sent; the queue goes back to what is stored
                raise
            if frame[0] == 3:
                # An answer promising what the disk refused: the CSMS learns it was not stored.
                message = call_error(frame[1], "InternalError", f"could not be stored: {exc}")
        await super()._send(message)
        self._host.frame_sent()

    def _drop_response(self, message_id: str, reason: str) -> None:
        self._host.frame_counted(False)
        self.responses_dropped += 1
        n = self.responses_dropped
        if n <= 10 or n % 1000 == 0:
            text = "dropped a response from the CSMS (%s, id %.40r; %d so far)"
            log.warning(text, reason, message_id, n)

    async def _reject_frame(self, msg_id: str, code: str, description: str) -> None:
        log.warning("malformed frame from the CSMS answered with %s: %s", code, description)
        self._host.frame_counted(False)
        await self._send(call_error(msg_id, code, description))
