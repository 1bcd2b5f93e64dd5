"""Delivery of the 2.0.1 queue: in order, a message removed only once answered.

TransactionEvents are retried forever, waiting MessageAttemptInterval × attempts (E13) up to
MessageAttempts, then the longest of those waits; a transaction message is never given up
while it can still be delivered. Other notices get one attempt. The answer to a Started or
Updated carries the CSMS's verdict on the idToken: anything but Accepted stops the
transaction when TxCtrlr.StopTxOnInvalidId says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v201 import call

from controller.ocpp.transactions import retry_delay_s
from controller.ocpp201 import variables as v
from controller.ocpp201.context import Context
from controller.ocpp201.queue import TRANSACTION_EVENT
from controller.ocpp201.session import Session201

log = logging.getLogger(__name__)

# (tx_key, idTokenInfo of the answer)
Verdict = Callable[[str, dict[str, Any]], None]


class Delivery:
    def __init__(self, ctx: Context, on_verdict: Verdict) -> None:
        self._ctx = ctx
        self._on_verdict = on_verdict
        self.delivered = 0

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None:
        self._ctx.db.enqueue(action, payload)
        self._ctx.outbox_event.set()

    async def run(self, caller: Session201) -> None:
        db, event = self._ctx.db, self._ctx.outbox_event
        while True:
            msg = db.peek()
            if msg is None:
                event.clear()
                if db.peek() is None:
                    await self._ctx.timers.wait(event, None)
                continue
            request = getattr(call, msg.action)(**msg.payload)
            try:
                resp = await caller.call(request, suppress=False)
            except OCPPError as exc:
                if msg.action != TRANSACTION_EVENT:
                    log.warning("%s answered with %s; dropped", msg.action, exc.code)
                    db.ack(msg.seq)
                    continue
                await self._failed_attempt(msg.seq, exc.code)
                continue
            db.ack(msg.seq)
            self.delivered += 1
            if msg.action != TRANSACTION_EVENT or not msg.tx_key:
                continue
            if msg.payload.get("event_type") == "Ended":
                db.forget_closed()
            elif resp.id_token_info:
                self._on_verdict(msg.tx_key, resp.id_token_info)

    async def _failed_attempt(self, seq: int, why: str) -> None:
        c = self._ctx
        attempts = c.db.count_attempt(seq)
        limit = c.variables.get_int(v.MESSAGE_ATTEMPTS)
        log.warning("TransactionEvent answered with %s (attempt %d)", why, attempts)
        interval = c.variables.get_int(v.MESSAGE_ATTEMPT_INTERVAL)
        await c.timers.sleep(retry_delay_s(attempts, limit, interval))
