"""Connector status for StatusNotification, derived from what the hardware really does. Pure.

A transaction with a car plugged in and nothing offered is SuspendedEVSE (our pause); current
offered but the car not requesting it is SuspendedEV; both keep the transaction open. The
errorCode of a fault follows its kind only: the text is for people and may be reworded.
"""

from __future__ import annotations

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from hw.base import CpState, EvseStatus, FaultKind

ERROR_CODES: dict[FaultKind, ChargePointErrorCode] = {
    FaultKind.CONTACTOR: ChargePointErrorCode.power_switch_failure,
    FaultKind.METER: ChargePointErrorCode.power_meter_failure,
    FaultKind.PILOT: ChargePointErrorCode.ev_communication_error,
    FaultKind.BOARD: ChargePointErrorCode.internal_error,
    FaultKind.LINK: ChargePointErrorCode.other_error,
    FaultKind.IO: ChargePointErrorCode.other_error,
    FaultKind.OTHER: ChargePointErrorCode.other_error,
}

ConnectorStatus = tuple[ChargePointStatus, ChargePointErrorCode]

_OK = ChargePointErrorCode.no_error


def connector_status(
    status: EvseStatus,
    *,
    in_transaction: bool,
    operative: bool,
    finishing: bool,
    authorized: bool,
    reserved: bool = False,
) -> ConnectorStatus:
    """(ChargePointStatus, ChargePointErrorCode)."""
    if status.fault is not None:
        return ChargePointStatus.faulted, ERROR_CODES[status.fault.kind]
    if not operative and not in_transaction:
        return ChargePointStatus.unavailable, _OK
    plugged = status.cp_state in (CpState.B, CpState.C, CpState.D)
    if in_transaction:
        if status.offered_a <= 0.0:
            return ChargePointStatus.suspended_evse, _OK
        if status.cp_state in (CpState.C, CpState.D) and status.contactor_closed:
            return ChargePointStatus.charging, _OK
        return ChargePointStatus.suspended_ev, _OK
    if plugged and finishing:
        return ChargePointStatus.finishing, _OK
    if plugged or authorized:
        return ChargePointStatus.preparing, _OK
    if reserved:
        return ChargePointStatus.reserved, _OK
    return ChargePointStatus.available, _OK
