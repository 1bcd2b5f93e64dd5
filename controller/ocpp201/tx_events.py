"""TransactionEvent payloads from the station's own words. Pure: no I/O, time passed in.

2.0.1 has no Start/StopTransaction and no connector status for charging: one transaction
message, Started / Updated / Ended, carries a `chargingState` whenever it changes (E01.FR.18)
and the most specific `triggerReason` (E02.FR.17). The id is ours, a UUID string (E01.FR.08),
known from the first message: nothing waits for the CSMS to assign one. `seqNo` is added when
the message is queued (`queue.EventDb`), in the same commit.

Payloads are the `ocpp` library's snake_case dicts, as the durable queue stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from controller.meter_readings import readings
from controller.station import ConnectorSnapshot, StopReason
from controller.timestamps import utc_iso
from hw.base import CpState, EvseStatus

# The one connector of each EVSE: chargectl's connector N is EVSE N, connector 1.
CONNECTOR_OF_EVSE = 1


class ChargingState(StrEnum):
    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


class Trigger(StrEnum):
    AUTHORIZED = "Authorized"
    CABLE_PLUGGED_IN = "CablePluggedIn"
    CHARGING_RATE_CHANGED = "ChargingRateChanged"
    CHARGING_STATE_CHANGED = "ChargingStateChanged"
    DEAUTHORIZED = "Deauthorized"
    EV_DEPARTED = "EVDeparted"
    METER_VALUE_CLOCK = "MeterValueClock"
    METER_VALUE_PERIODIC = "MeterValuePeriodic"
    REMOTE_START = "RemoteStart"
    REMOTE_STOP = "RemoteStop"
    STOP_AUTHORIZED = "StopAuthorized"
    UNLOCK_COMMAND = "UnlockCommand"
    RESET_COMMAND = "ResetCommand"
    TRIGGER = "Trigger"
    ABNORMAL_CONDITION = "AbnormalCondition"


@dataclass(frozen=True, slots=True)
class StartCause:
    """How an authorization came, for the Started event's triggerReason and idToken."""

    id_token: dict[str, str]
    remote_start_id: int | None


# The reading context of the meter values each trigger sends.
CONTEXTS = {
    Trigger.METER_VALUE_PERIODIC: "Sample.Periodic",
    Trigger.METER_VALUE_CLOCK: "Sample.Clock",
}

# Why a transaction ended, in 2.0.1's ReasonEnumType and the trigger that says so.
STOPPED: dict[StopReason, tuple[str, Trigger]] = {
    StopReason.LOCAL: ("Local", Trigger.STOP_AUTHORIZED),
    StopReason.REMOTE: ("Remote", Trigger.REMOTE_STOP),
    StopReason.EV_DISCONNECTED: ("EVDisconnected", Trigger.EV_DEPARTED),
    StopReason.POWER_LOSS: ("PowerLoss", Trigger.ABNORMAL_CONDITION),
    StopReason.HARD_RESET: ("ImmediateReset", Trigger.RESET_COMMAND),
    StopReason.SOFT_RESET: ("Reboot", Trigger.RESET_COMMAND),
    StopReason.UNLOCK_COMMAND: ("Other", Trigger.UNLOCK_COMMAND),
    StopReason.DEAUTHORIZED: ("DeAuthorized", Trigger.DEAUTHORIZED),
}

DEFAULT_MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Offered")


def charging_state(status: EvseStatus) -> ChargingState:
    """The chargingState of a running transaction, from what the hardware does: nothing
    offered is our pause (SuspendedEVSE), offered but not drawn is the car's (SuspendedEV)."""
    if not status.plugged_in:
        return ChargingState.IDLE
    if status.offered_a <= 0.0:
        return ChargingState.SUSPENDED_EVSE
    if status.cp_state in (CpState.C, CpState.D) and status.contactor_closed:
        return ChargingState.CHARGING
    return ChargingState.SUSPENDED_EV


def change_trigger(new: ChargingState, limit_a: float | None) -> Trigger:
    """A pause that a charging limit of 0 A caused is the rate's change (the CSMS's profile);
    any other change of state is the state's."""
    if new is ChargingState.SUSPENDED_EVSE and limit_a is not None and limit_a <= 0.0:
        return Trigger.CHARGING_RATE_CHANGED
    return Trigger.CHARGING_STATE_CHANGED


def start_trigger(*, remote: bool, plugged_last: bool) -> Trigger:
    if remote:
        return Trigger.REMOTE_START
    return Trigger.CABLE_PLUGGED_IN if plugged_last else Trigger.AUTHORIZED


def sampled_values(
    snap: ConnectorSnapshot, measurands: tuple[str, ...], context: str
) -> list[dict[str, Any]]:
    """SampledValueType list: numbers (not 1.6's strings), unitOfMeasure objects. A sample
    with a non-finite number reports nothing but the offered current."""
    out: list[dict[str, Any]] = []
    for value, measurand, unit, phase in readings(snap, measurands):
        sv: dict[str, Any] = {
            "value": round(value, 1),
            "context": context,
            "measurand": measurand,
            "location": "Outlet",
            "unit_of_measure": {"unit": unit},
        }
        if phase:
            sv["phase"] = phase
        out.append(sv)
    return out


def energy_value(value_wh: float, context: str) -> list[dict[str, Any]]:
    """The register alone: a Started's meterStart and an Ended's meterStop, as billed."""
    return [
        {
            "value": round(value_wh, 1),
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unit_of_measure": {"unit": "Wh"},
        }
    ]


def meter_value(values: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]] | None:
    return [{"timestamp": utc_iso(at), "sampled_value": values}] if values else None


def transaction_event(
    event_type: str,
    *,
    at: datetime,
    trigger: Trigger,
    transaction_id: str,
    state: ChargingState | None = None,
    evse_id: int | None = None,
    id_token: dict[str, str] | None = None,
    remote_start_id: int | None = None,
    stopped_reason: str | None = None,
    meter: list[dict[str, Any]] | None = None,
    offline: bool = False,
    cable_max_a: float | None = None,
    phases: int | None = None,
    reservation_id: int | None = None,
) -> dict[str, Any]:
    """One TransactionEvent, without its seqNo."""
    info: dict[str, Any] = {"transaction_id": transaction_id}
    if state is not None:
        info["charging_state"] = state.value
    if remote_start_id is not None:
        info["remote_start_id"] = remote_start_id
    if stopped_reason is not None:
        info["stopped_reason"] = stopped_reason
    payload: dict[str, Any] = {
        "event_type": event_type,
        "timestamp": utc_iso(at),
        "trigger_reason": trigger.value,
        "transaction_info": info,
    }
    if evse_id is not None:
        payload["evse"] = {"id": evse_id, "connector_id": CONNECTOR_OF_EVSE}
    if id_token is not None:
        payload["id_token"] = id_token
    if meter:
        payload["meter_value"] = meter
    if offline:
        payload["offline"] = True
    if cable_max_a is not None:
        payload["cable_max_current"] = int(cable_max_a)  # the plug's rating (PP resistor)
    if phases is not None:
        payload["number_of_phases_used"] = phases
    if reservation_id is not None:
        payload["reservation_id"] = reservation_id
    return payload
