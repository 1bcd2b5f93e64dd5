"""Delivery of the durable queue: in order, and a message removed only once answered.

Transaction messages are retried forever (slower after the OCPP attempts); others are given up
after TransactionMessageAttempts. A StartTransaction's answer gives the transaction its id.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from controller.frame_counts import RecentEvents
from controller.ocpp.core import Core, utc_iso
from controller.ocpp.ports import Caller
from controller.ocpp.transactions import retry_delay_s, storable_id
from controller.ocpp.tx_flow import TransactionFlow

# Queued like transaction messages, but one attempt each: a CALLERROR never holds the queue.
NOTICE_ACTIONS = (
    "SecurityEventNotification",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)

log = logging.getLogger(__name__)


class Delivery:
    def __init__(self, core: Core, flow: TransactionFlow) -> None:
        self._core = core
        self._flow = flow
        self.recent_security_events = RecentEvents()

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None:
        """A status message for the CSMS, through the persistent queue like the others."""
        self._core.db.enqueue(action, payload)
        self._core.outbox_event.set()

    def security_event(self, kind: str, info: str | None) -> None:
        at = utc_iso(self._core.now())
        self.recent_security_events.add(kind, at, info)
        self._core.db.enqueue_security_event(kind, at, info)
        self._core.outbox_event.set()

    async def run(self, caller: Caller) -> None:
        db = self._core.db
        event = self._core.outbox_event
        while True:
            msg = db.peek()
            if msg is None:
                event.clear()
                if db.peek() is None:
                    await self._core.timers.wait(event, None)
                continue
            payload = dict(msg.payload)
            if msg.tx_key and msg.action in ("MeterValues", "StopTransaction"):
                tid = db.transaction_id(msg.tx_key)
                if tid is None:
                    log.error("dropping %s: its transaction never got an id", msg.action)
                    db.ack(msg.seq)
                    continue
                payload["transaction_id"] = tid
            request = getattr(call, msg.action)(**payload)
            try:
                resp = await caller.call(request, suppress=False)
            except OCPPError as exc:
                if msg.action in NOTICE_ACTIONS:
                    # Not a transaction message: one attempt (old CSMSes answer NotImplemented).
                    log.warning("%s answered with %s; dropped", msg.action, exc.code)
                    db.ack(msg.seq)
                    continue
                await self._failed_attempt(msg.seq, msg.action, msg.tx_key, exc.code)
                continue
            if msg.action == "StartTransaction" and msg.tx_key:
                if not storable_id(resp.transaction_id):
                    # Not a CALL we can answer with an error: treat it as a failed attempt.
                    await self._failed_attempt(
                        msg.seq, msg.action, msg.tx_key, "an out-of-range transactionId"
                    )
                    continue
                self._flow.confirmed(msg.tx_key, int(resp.transaction_id), resp.id_tag_info)
            db.ack(msg.seq)
            if msg.action == "StopTransaction":
                db.forget_closed()
                if resp.id_tag_info and payload.get("id_tag"):
                    self._flow.learn(str(payload["id_tag"]), resp.id_tag_info)

    async def _failed_attempt(self, seq: int, action: str, tx_key: str | None, why: str) -> None:
        db, keys = self._core.db, self._core.keys
        attempts = db.count_attempt(seq)
        limit = keys.get_int("TransactionMessageAttempts")
        log.warning("%s answered with %s (attempt %d of %d)", action, why, attempts, limit)
        if tx_key is None and attempts >= limit:
            log.error("giving up on %s after %d attempts", action, attempts)
            db.ack(seq)
            return
        if attempts == limit:
            log.error("%s still not accepted after %d attempts: retrying slower", action, limit)
        interval = keys.get_int("TransactionMessageRetryInterval")
        await self._core.timers.sleep(retry_delay_s(attempts, limit, interval))
