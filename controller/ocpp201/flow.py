"""When a 2.0.1 transaction starts, changes and ends, and the TransactionEvent that says so.

The station model owns the transaction (`TransactionBook`, one commit per change through the
`EventJournal`); this part decides when to start and stop, as the 1.6 flow does (a plugged
car and an authorization start it, an unplug or a stop request ends it; meterStart never a
stand-in), and turns each change the CSMS must hear about into a queued TransactionEvent:
Started and Ended in the book's own commit, Updated for a chargingState change and for
periodic meter values. A transaction's id is ours (a UUID string) from its first message.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from controller.ocpp.transactions import good_energy_wh, meter_stop_wh
from controller.ocpp201 import tx_events as te
from controller.ocpp201 import variables as v
from controller.ocpp201.context import Context
from controller.ocpp201.payloads import Payloads
from controller.ocpp201.tx_events import StartCause
from controller.station import Authorization, EventKind, StationEvent, StopReason, TransactionInfo
from controller.transaction_steps import open_transaction, release_after_stop
from hw.base import CpState

log = logging.getLogger(__name__)

PERIODIC = te.Trigger.METER_VALUE_PERIODIC


class Flow(Payloads):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._causes: dict[int, StartCause] = {}
        self.held: set[int] = set()  # restored transactions about to end with PowerLoss

    def _changed(self, connector_id: int) -> None:
        self._ctx.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, connector_id))

    def energy_wh(self, connector_id: int) -> float | None:
        return good_energy_wh(self._ctx.hardware.snapshot(connector_id).meter)

    # --- start ------------------------------------------------------------------------------

    def authorize(
        self, connector_id: int, cause: StartCause, profile: Any, group: str | None = None
    ) -> None:
        c = self._ctx
        now = c.clock.monotonic()
        expires = now + c.variables.get_int(v.EV_CONNECTION_TIMEOUT)
        self._causes[connector_id] = cause
        self._authorized_at[connector_id] = now
        c.connectors.authorize(
            connector_id, Authorization(cause.id_token["id_token"], profile, expires, group)
        )
        self.maybe_start(connector_id)
        self._changed(connector_id)

    def maybe_start(self, connector_id: int) -> None:
        c, book = self._ctx, self._ctx.transactions
        status = c.hardware.snapshot(connector_id).status
        if (
            connector_id in book
            or not c.connectors.operative(connector_id)
            or not status.plugged_in
            or c.connectors.finishing(connector_id)
        ):
            c.watch.forget_wait(connector_id)
            return
        auth = c.connectors.authorization(connector_id, c.clock.monotonic())
        if auth is None and c.settings.free_vend_id_tag:
            auth = Authorization(c.settings.free_vend_id_tag, None, 0.0)
            self._causes[connector_id] = StartCause(
                {"id_token": auth.id_tag, "type": "NoAuthorization"}, None
            )
        if auth is None or not c.connectors.admits(connector_id, auth):
            c.watch.forget_wait(connector_id)
            return
        meter_wh = self._meter_start(connector_id)
        if meter_wh is None:
            return  # retried by the metering loop until a value is known
        cause = self._causes.pop(
            connector_id, StartCause({"id_token": auth.id_tag, "type": "Local"}, None)
        )
        self._starting[connector_id] = cause  # the Started event, written in the book's commit
        tx = open_transaction(c, book, connector_id, auth, meter_wh, str(uuid.uuid4()))
        log.info("transaction %s started on EVSE %d", tx.tx_key, connector_id)
        c.profiles.transaction_started(connector_id, None, tx.start, auth.profile)
        c.outbox_event.set()

    def _meter_start(self, connector_id: int) -> float | None:
        c = self._ctx
        if not c.hardware.snapshot(connector_id).metered:
            return c.db.last_register_wh(connector_id) or 0.0
        decision = c.watch.meter_start(
            connector_id,
            self.energy_wh(connector_id),
            c.db.last_register_wh(connector_id),
            c.clock.monotonic(),
        )
        return decision.energy_wh

    # --- changes ----------------------------------------------------------------------------

    def connector_changed(self, connector_id: int) -> None:
        c = self._ctx
        plugged = c.hardware.snapshot(connector_id).status.plugged_in
        if plugged and connector_id not in self._plugged_at:
            self._plugged_at[connector_id] = c.clock.monotonic()
        if c.hardware.snapshot(connector_id).status.cp_state is CpState.A:
            self._plugged_at.pop(connector_id, None)
            c.connectors.set_finishing(connector_id, False)
            if connector_id in c.transactions and c.variables.get_bool(
                v.STOP_TX_ON_EV_SIDE_DISCONNECT
            ):
                self.stop(connector_id, StopReason.EV_DISCONNECTED)
        self.maybe_start(connector_id)
        self.check_state(connector_id)
        self._changed(connector_id)

    def check_state(self, connector_id: int) -> None:
        """An Updated event when the chargingState changed (E01.FR.18), or the number of
        phases in use while charging (E02.FR.19)."""
        c = self._ctx
        tx = c.transactions.get(connector_id)
        if tx is None or connector_id in self.held:
            return
        snap = c.hardware.snapshot(connector_id)
        state = te.charging_state(snap.status)
        last = self.states.get(tx.tx_key)
        if state is last or (
            last is te.ChargingState.EV_CONNECTED and state is te.ChargingState.SUSPENDED_EVSE
        ):
            phases = self._phases_due(tx.tx_key, state, connector_id)
            if phases is not None:
                self._queue_updated(tx, te.Trigger.CHARGING_RATE_CHANGED, None, phases=phases)
            return
        self.states[tx.tx_key] = state
        phases = self._phases_due(tx.tx_key, state, connector_id)
        self._queue_updated(tx, te.change_trigger(state, snap.limit_a), state, phases=phases)

    def periodic(
        self, connector_id: int, tx: TransactionInfo, trigger: te.Trigger = PERIODIC
    ) -> None:
        """Meter values now: periodic, clock-aligned (AlignedDataCtrlr's measurands) or
        triggered (with the chargingState too)."""
        snap = self._ctx.hardware.snapshot(connector_id)
        aligned = trigger is te.Trigger.METER_VALUE_CLOCK
        measurands = self._ctx.variables.get_list(
            v.ALIGNED_MEASURANDS if aligned else v.TX_UPDATED_MEASURANDS
        )
        context = te.CONTEXTS.get(trigger, "Trigger")
        values = te.sampled_values(snap, measurands, context)
        state = None if context != "Trigger" else te.charging_state(snap.status)
        if values or state is not None:
            self._queue_updated(tx, trigger, state, values or None)

    def _queue_updated(
        self,
        tx: TransactionInfo,
        trigger: te.Trigger,
        state: te.ChargingState | None,
        values: list[dict[str, Any]] | None = None,
        phases: int | None = None,
    ) -> None:
        c = self._ctx
        at = c.now()
        payload = te.transaction_event(
            "Updated",
            phases=phases,
            at=at,
            trigger=trigger,
            transaction_id=tx.tx_key,
            state=state,
            meter=None if values is None else te.meter_value(values, at),
            offline=c.caller() is None,
        )
        energy_wh = self.energy_wh(tx.connector_id)
        register = None if energy_wh is None else (tx.connector_id, energy_wh)
        c.db.enqueue_event(tx.tx_key, payload, register)
        c.outbox_event.set()

    # --- stop -------------------------------------------------------------------------------

    def stop(self, connector_id: int, reason: StopReason) -> None:
        c = self._ctx
        tx = c.transactions.get(connector_id)
        if tx is None:
            return
        meter_stop = meter_stop_wh(
            self.energy_wh(connector_id), c.db.last_register_wh(connector_id), tx.meter_start_wh
        )
        c.transactions.stop(connector_id, reason, meter_stop, c.now())
        log.info("transaction %s on EVSE %d stopped: %s", tx.tx_key, connector_id, reason.value)
        if c.hardware.snapshot(connector_id).status.plugged_in:
            c.connectors.set_finishing(connector_id, True)
        release_after_stop(c, connector_id)  # its TxProfiles go with it (K02.FR.05)
        c.outbox_event.set()
        self._changed(connector_id)
