"""The Started and Ended TransactionEvents the station's journal stores with a transaction's
start and end (one commit), and what the flow remembers to write them: how the start came
(remote, card, cable last), the chargingState and numberOfPhasesUsed last sent. A base of
`flow.Flow`, kept apart to stay one job a file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controller.ocpp201 import tx_events as te
from controller.ocpp201.context import Context
from controller.ocpp201.tx_events import StartCause
from controller.station import StopReason, TransactionInfo


class Payloads:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._starting: dict[int, StartCause] = {}
        self._plugged_at: dict[int, float] = {}
        self._authorized_at: dict[int, float] = {}
        self.states: dict[str, te.ChargingState] = {}  # tx_key -> chargingState last sent
        self.phases: dict[str, int] = {}  # tx_key -> numberOfPhasesUsed last sent
        self.tokens: dict[str, dict[str, str]] = {}  # tx_key -> the idToken that started it

    def started_payload(self, tx: TransactionInfo) -> dict[str, Any]:
        c, cid = self._ctx, tx.connector_id
        cause = self._starting.pop(cid, None) or StartCause(
            {"id_token": tx.id_tag, "type": "Local"}, None
        )
        plugged_last = self._plugged_at.get(cid, 0.0) > self._authorized_at.get(cid, 0.0)
        status = c.hardware.snapshot(cid).status
        state = te.charging_state(status)
        if state is te.ChargingState.SUSPENDED_EVSE:
            state = te.ChargingState.EV_CONNECTED  # nothing offered yet: it has just begun
        self.states[tx.tx_key] = state
        self.tokens[tx.tx_key] = cause.id_token
        return te.transaction_event(
            "Started",
            phases=self._phases_due(tx.tx_key, state, cid),
            at=tx.start,
            trigger=te.start_trigger(
                remote=cause.remote_start_id is not None, plugged_last=plugged_last
            ),
            transaction_id=tx.tx_key,
            state=state,
            evse_id=cid,
            id_token=cause.id_token,
            remote_start_id=cause.remote_start_id,
            meter=te.meter_value(te.energy_value(tx.meter_start_wh, "Transaction.Begin"), tx.start),
            offline=c.caller() is None,
            cable_max_a=status.cable_max_a,
            reservation_id=tx.reservation_id,
        )

    def ended_payload(
        self, tx: TransactionInfo, meter_stop: float, reason: StopReason, at: datetime
    ) -> dict[str, Any]:
        c = self._ctx
        stopped, trigger = te.STOPPED[reason]
        plugged = c.hardware.snapshot(tx.connector_id).status.plugged_in
        self.states.pop(tx.tx_key, None)
        self.phases.pop(tx.tx_key, None)
        self.tokens.pop(tx.tx_key, None)
        return te.transaction_event(
            "Ended",
            at=at,
            trigger=trigger,
            transaction_id=tx.tx_key,
            state=te.ChargingState.EV_CONNECTED if plugged else te.ChargingState.IDLE,
            stopped_reason=stopped,
            meter=te.meter_value(te.energy_value(meter_stop, "Transaction.End"), at),
            offline=c.caller() is None,
        )

    def _phases_due(self, tx_key: str, state: te.ChargingState, connector_id: int) -> int | None:
        """numberOfPhasesUsed when energy flows and it was not yet sent as it is now
        (E02.FR.18/19): what the hardware says, else the supply's phases."""
        if state is not te.ChargingState.CHARGING:
            return None
        snap = self._ctx.hardware.snapshot(connector_id)
        phases = snap.phases_in_use or self._ctx.profiles.config.phases
        if self.phases.get(tx_key) == phases:
            return None
        self.phases[tx_key] = phases
        return phases
