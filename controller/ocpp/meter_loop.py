"""MeterValues of running transactions (sampled) and of every connector (clock-aligned).

The loop sleeps until the next sample is due instead of waking on a fixed tick: idle, with
no transaction and no aligned data, it wakes only when told (a transaction started, a
connector changed, an interval was reconfigured) or once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from controller.ocpp.core import Core, utc_iso
from controller.ocpp.metering import sampled_values
from controller.ocpp.statuses import Statuses
from controller.ocpp.tx_flow import TransactionFlow
from controller.station import EventKind, StationEvent, TransactionInfo

log = logging.getLogger(__name__)

# While a start waits for its first meter reading, the reading is looked for this often.
START_RETRY_S = 0.2
# The longest sleep: a wall-clock step is noticed within it.
MAX_IDLE_S = 60.0


def next_wake_s(
    *,
    waiting_start: bool,
    sample_due_in_s: list[float],
    aligned_interval_s: int,
    wall_s: float,
) -> float:
    """Seconds until the loop has something to do. Pure."""
    candidates = [MAX_IDLE_S, *sample_due_in_s]
    if waiting_start:
        candidates.append(START_RETRY_S)
    if aligned_interval_s > 0:
        # Just past the boundary, so the slot has changed when the loop looks.
        candidates.append(aligned_interval_s - wall_s % aligned_interval_s + 0.01)
    return max(0.0, min(candidates))


class Metering:
    def __init__(self, core: Core, flow: TransactionFlow, statuses: Statuses) -> None:
        self._core = core
        self._flow = flow
        self._statuses = statuses
        self._last_sample: dict[int, float] = {
            cid: core.clock.monotonic() for cid, _ in core.book.items()
        }
        self.wake = asyncio.Event()
        self.wake_ups = 0
        core.events.subscribe(self._on_event)

    def _on_event(self, event: StationEvent) -> None:
        if event.kind is EventKind.TRANSACTION_STARTED:
            self._last_sample[event.connector_id] = self._core.clock.monotonic()
            self.wake.set()
        elif event.kind is EventKind.CONNECTOR_CHANGED and self._core.watch.waiting():
            self.wake.set()  # a start now waits for its first meter reading

    def sampled_values(self, connector_id: int, key: str, context: str) -> list[dict[str, Any]]:
        snap = self._core.hardware.snapshot(connector_id)
        return sampled_values(snap, self._core.keys.get_list(key), context)

    async def run(self) -> None:
        c = self._core
        last_aligned: int | None = None
        while True:
            self.wake_ups += 1
            for cid in c.watch.waiting():
                self._flow.maybe_start(cid)
                self._statuses.update(cid)
            mono = c.clock.monotonic()
            interval = c.keys.get_int("MeterValueSampleInterval")
            due_in: list[float] = []
            for cid, tx in c.book.items():
                if interval <= 0:
                    break
                last = self._last_sample.setdefault(cid, mono)
                if mono - last >= interval:
                    self._last_sample[cid] = last = mono
                    self._queue(cid, tx, "MeterValuesSampledData", "Sample.Periodic")
                due_in.append(last + interval - mono)
            aligned = c.keys.get_int("ClockAlignedDataInterval")
            wall_s = c.now().timestamp()
            if aligned > 0:
                slot = int(wall_s) // aligned
                if last_aligned is not None and slot != last_aligned:
                    for cid in c.hardware.connector_ids:
                        self._queue(cid, c.book.get(cid), "MeterValuesAlignedData", "Sample.Clock")
                last_aligned = slot
            self.wake.clear()
            delay_s = next_wake_s(
                waiting_start=bool(c.watch.waiting()),
                sample_due_in_s=due_in,
                aligned_interval_s=aligned,
                wall_s=wall_s,
            )
            await c.timers.wait(self.wake, delay_s)

    def _queue(self, cid: int, tx: TransactionInfo | None, key: str, context: str) -> None:
        c = self._core
        values = self.sampled_values(cid, key, context)
        if not values:
            return
        payload = {
            "connector_id": cid,
            "meter_value": [{"timestamp": utc_iso(c.now()), "sampled_value": values}],
        }
        energy_wh = self._flow.energy_wh(cid)
        register = None if energy_wh is None else (cid, energy_wh)
        try:
            c.db.enqueue("MeterValues", payload, None if tx is None else tx.tx_key, register)
        except sqlite3.Error as exc:
            # A full or read-only disk: this sample is lost, say so, and keep metering.
            log.error("could not queue MeterValues: %s", exc)
            return
        c.outbox_event.set()
