"""The OCPP adapter without sockets or sleeps: an in-memory connection pair, a scripted CSMS
on its far end, fake hardware, and timers that run on a FakeClock only when the test says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ocpp.messages as ocpp_messages

from controller.ocpp.ports import Connection
from controller.ocpp.service import ChargePointService
from controller.ocpp.settings import OcppSettings
from controller.smart_charging import ProfileStore, SmartChargingConfig
from controller.station import ConnectorSnapshot
from hw.base import CpState, EvseStatus, MeterSample
from hw.clock import FakeClock

CSMS_TIME = "2024-05-01T10:00:00.000Z"


class LinkDropped(ConnectionError):
    pass


class Pipe:
    """One direction of an in-memory link."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()


class End:
    """One end of the pair: the `ocpp` library's connection protocol (send/recv of text)."""

    def __init__(self, inbox: Pipe, outbox: Pipe) -> None:
        self._in, self._out = inbox, outbox
        self.closed = False

    async def send(self, message: str) -> None:
        if self.closed:
            raise LinkDropped("link closed")
        await self._out.queue.put(message)

    async def recv(self) -> str:
        if self.closed:
            raise LinkDropped("link closed")
        msg = await self._in.queue.get()
        if msg is None:
            self.closed = True
            raise LinkDropped("link closed by the peer")
        return msg

    def close(self) -> None:
        """Drop the link: both ends see it at their next recv."""
        self.closed = True
        self._in.queue.put_nowait(None)
        self._out.queue.put_nowait(None)


def pair() -> tuple[End, End]:
    a, b = Pipe(), Pipe()
    return End(a, b), End(b, a)


Answer = Callable[[str, dict[str, Any]], dict[str, Any] | None]


def default_answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": CSMS_TIME, "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": CSMS_TIME}
    if action in ("Authorize", "StartTransaction"):
        out: dict[str, Any] = {"idTagInfo": {"status": "Accepted"}}
        if action == "StartTransaction":
            out["transactionId"] = 4242
        return out
    return {}


@dataclass
class Csms:
    """The far end: answers each CALL with `answer` (None: no answer, the link is dropped)."""

    answer: Answer = default_answer
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    answered: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clock: FakeClock | None = None
    replies: list[list[Any]] = field(default_factory=list)
    end: End | None = None

    async def serve(self, end: End) -> None:
        self.end = end
        with contextlib.suppress(LinkDropped):
            while True:
                frame = json.loads(await end.recv())
                if frame[0] != 2:
                    self.replies.append(frame)  # the charger's answers to `request`
                    continue
                _, msg_id, action, payload = frame
                mono = self.clock.monotonic() if self.clock else 0.0
                self.calls.append((action, payload, mono))
                reply = self.answer(action, payload)
                if reply is None:
                    end.close()
                    return
                self.answered.append((action, payload))
                await end.send(json.dumps([3, msg_id, reply]))

    def actions(self) -> list[str]:
        return [a for a, _, _ in self.calls]

    async def request(self, msg_id: str, action: str, payload: dict[str, Any]) -> None:
        """Send the charger a CALL; its answer lands in `replies` (see `reply_to`)."""
        assert self.end is not None, "not connected"
        await self.end.send(json.dumps([2, msg_id, action, payload]))

    def reply_to(self, msg_id: str) -> list[Any] | None:
        return next((r for r in self.replies if r[1] == msg_id), None)


class Opener:
    """Connects to `csms` over a fresh in-memory pair, or fails while `refuse` is set."""

    def __init__(self, csms: Csms) -> None:
        self.csms = csms
        self.refuse = False
        self.attempts = 0
        self.ends: list[End] = []
        self._served: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Connection]:
        self.attempts += 1
        if self.refuse:
            raise ConnectionRefusedError("refused by the test")
        ours, theirs = pair()
        self.ends.append(ours)
        task = asyncio.create_task(self.csms.serve(theirs))
        self._served.add(task)
        try:
            yield ours
        finally:
            ours.close()
            task.cancel()

    def drop(self) -> None:
        self.ends[-1].close()


class FakeTimers:
    """Sleeps and timed waits that end only when `advance` moves the FakeClock past them."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []
        self._deadlines: list[tuple[float, asyncio.Future[None]]] = []

    def _timer(self, seconds: float) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._deadlines.append((self.clock.monotonic() + seconds, fut))
        return fut

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut = self._timer(seconds)
        try:
            await fut
        finally:
            self._deadlines = [(d, f) for d, f in self._deadlines if f is not fut]

    async def wait(self, event: asyncio.Event, timeout_s: float | None) -> bool:
        if event.is_set():
            return True
        waiter = asyncio.ensure_future(event.wait())
        pending: set[asyncio.Future[Any]] = {waiter}
        fut = None if timeout_s is None else self._timer(timeout_s)
        if fut is not None:
            pending.add(fut)
        try:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            self._deadlines = [(d, f) for d, f in self._deadlines if f is not fut]
        return event.is_set()

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer on the way in order, letting tasks run."""
        target = self.clock.monotonic() + seconds
        await settle()
        while True:
            due = [d for d, f in self._deadlines if not f.done() and d <= target]
            if not due:
                break
            nxt = min(due)
            if nxt > self.clock.monotonic():
                self.clock.advance(nxt - self.clock.monotonic())
            for d, f in self._deadlines:
                if d <= nxt and not f.done():
                    f.set_result(None)
            await settle()
        if target > self.clock.monotonic():
            self.clock.advance(target - self.clock.monotonic())
        await settle()


async def settle(rounds: int = 200) -> None:
    """Let every ready task run; no wall time passes beyond the loop's own iterations."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], rounds: int = 5000, real_s: float = 10.0) -> None:
    """Wait for `condition` without moving the fake clock. Durable writes finish on a writer
    thread in real time (a message leaves only once its row is on disk), so after the first
    `rounds` loop iterations the wait also yields a millisecond at a time, up to `real_s`."""
    deadline = time.monotonic() + real_s
    n = 0
    while True:
        if condition():
            return
        n += 1
        if n > rounds and time.monotonic() > deadline:
            break
        await asyncio.sleep(0 if n <= rounds else 0.001)
    raise AssertionError(f"condition never came true: {condition.__code__.co_consts}")


async def booted(r: Rig) -> None:
    """Until the boot is accepted and its follow-ups (statuses, the startup security event)
    are answered: from then on the heartbeat and queue tasks are waiting on the fake clock."""
    await until(lambda: r.service.link_state == "booted")
    await until(lambda: "SecurityEventNotification" in [a for a, _ in r.csms.answered])
    await settle()


@dataclass
class FakeHardware:
    cp_state: CpState = CpState.A
    energy_wh: float | None = 1000.0
    fault: Any = None
    operative: dict[int, bool] = field(default_factory=dict)

    @property
    def connector_ids(self) -> list[int]:
        return [1]

    def snapshot(self, connector_id: int) -> ConnectorSnapshot:
        meter = None
        if self.energy_wh is not None:
            meter = MeterSample(self.energy_wh, 0.0, (0.0, 0.0, 0.0), (230.0, 0.0, 0.0))
        status = EvseStatus(self.cp_state, 0.0, False, fault=self.fault)
        return ConnectorSnapshot(connector_id, status, None, meter)

    async def unlock_connector(self, connector_id: int) -> bool:
        return True

    async def reset(self, kind: str) -> None:
        return None

    def set_operative(self, connector_id: int, operative: bool) -> None:
        self.operative[connector_id] = operative


@dataclass
class Rig:
    service: ChargePointService
    csms: Csms
    opener: Opener
    timers: FakeTimers
    clock: FakeClock
    hardware: FakeHardware
    task: asyncio.Task[None] | None = None


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    answer: Answer = default_answer,
    seed: int = 7,
    hardware: FakeHardware | None = None,
    **settings: Any,
) -> AsyncIterator[Rig]:
    clock = FakeClock()
    timers = FakeTimers(clock)
    csms = Csms(answer, clock=clock)
    opener = Opener(csms)
    hardware = hardware or FakeHardware()
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    profiles = ProfileStore(
        SmartChargingConfig(voltage_v=230, phases=3, number_of_connectors=1, max_current_a=32),
        state / "profiles.sqlite",
    )
    base = OcppSettings(url="ws://unused", charge_point_id="CP-UNIT", max_backoff_s=60.0)
    service = ChargePointService(
        replace(base, **settings),
        hardware,
        profiles,
        state,
        clock,
        opener=opener,
        timers=timers,
        rng=random.Random(seed),
    )
    r = Rig(service, csms, opener, timers, clock, hardware)
    # The library validates schemas in a thread by default: real time, which the fake clock
    # cannot drive. The same validation, run inline, keeps every step on the event loop.
    threaded = ocpp_messages.ASYNC_VALIDATION
    ocpp_messages.ASYNC_VALIDATION = False
    r.task = asyncio.create_task(service.run())
    try:
        yield r
    finally:
        ocpp_messages.ASYNC_VALIDATION = threaded
        r.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await r.task
        await service.aclose()
        profiles.close()
