"""Periodic TransactionEvent(Updated, MeterValuePeriodic) of running transactions, every
SampledDataCtrlr.TxUpdatedInterval seconds; and the retry of a start waiting for its first
meter reading. The loop sleeps until the next sample is due (`controller.ocpp.meter_loop`'s
pure `next_wake_s`) or until told (a transaction started, an interval was changed)."""

from __future__ import annotations

from controller.ocpp.meter_loop import next_wake_s
from controller.ocpp201 import tx_events as te
from controller.ocpp201 import variables as v
from controller.ocpp201.context import Context
from controller.ocpp201.flow import Flow
from controller.station import EventKind, StationEvent


class Metering:
    def __init__(self, ctx: Context, flow: Flow) -> None:
        self._ctx = ctx
        self._flow = flow
        self._last: dict[int, float] = {}
        self.wake = ctx.meter_wake
        ctx.events.subscribe(self._on_event)

    def _on_event(self, event: StationEvent) -> None:
        if event.kind is EventKind.TRANSACTION_STARTED:
            self._last[event.connector_id] = self._ctx.clock.monotonic()
            self.wake.set()
        elif event.kind is EventKind.CONNECTOR_CHANGED and self._ctx.watch.waiting():
            self.wake.set()

    async def run(self) -> None:
        c = self._ctx
        last_slot: int | None = None
        while True:
            for cid in c.watch.waiting():
                self._flow.maybe_start(cid)
            mono = c.clock.monotonic()
            interval = c.variables.get_int(v.TX_UPDATED_INTERVAL)
            due_in: list[float] = []
            for cid, tx in c.transactions.items():
                if interval <= 0:
                    break
                last = self._last.setdefault(cid, mono)
                if mono - last >= interval:
                    self._last[cid] = last = mono
                    self._flow.periodic(cid, tx)
                due_in.append(last + interval - mono)
            aligned = c.variables.get_int(v.ALIGNED_INTERVAL)
            wall_s = c.now().timestamp()
            if aligned > 0:
                slot = int(wall_s) // aligned
                if last_slot is not None and slot != last_slot:
                    self._aligned()
                last_slot = slot
            self.wake.clear()
            delay_s = next_wake_s(
                waiting_start=bool(c.watch.waiting()),
                sample_due_in_s=due_in,
                aligned_interval_s=aligned,
                wall_s=wall_s,
            )
            await c.timers.wait(self.wake, delay_s)

    def _aligned(self) -> None:
        """Clock-aligned values (J01): in a transaction an Updated event (MeterValueClock),
        outside one a MeterValues message, both through the durable queue."""
        c = self._ctx
        measurands = c.variables.get_list(v.ALIGNED_MEASURANDS)
        for cid in c.hardware.connector_ids:
            tx = c.transactions.get(cid)
            if tx is not None:
                self._flow.periodic(cid, tx, te.Trigger.METER_VALUE_CLOCK)
                continue
            values = te.sampled_values(c.hardware.snapshot(cid), measurands, "Sample.Clock")
            meter = te.meter_value(values, c.now())
            if meter:
                c.db.enqueue("MeterValues", {"evse_id": cid, "meter_value": meter})
                c.outbox_event.set()
