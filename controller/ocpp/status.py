"""Connector status for StatusNotification, derived from what the hardware really does. Pure.

A transaction with a car plugged in and nothing offered is SuspendedEVSE (our pause); current
offered but the car not requesting it is SuspendedEV; both keep the transaction open.
"""

from __future__ import annotations

from hw.base import CpState, EvseStatus


def connector_status(
    status: EvseStatus,
    *,
    in_transaction: bool,
    operative: bool,
    finishing: bool,
    authorized: bool,
) -> tuple[str, str]:
    """(ChargePointStatus, ChargePointErrorCode)."""
    if status.fault is not None:
        return "Faulted", _error_code(status)
    if not operative and not in_transaction:
        return "Unavailable", "NoError"
    plugged = status.cp_state in (CpState.B, CpState.C, CpState.D)
    if in_transaction:
        if status.offered_a <= 0.0:
            return "SuspendedEVSE", "NoError"
        if status.cp_state in (CpState.C, CpState.D) and status.contactor_closed:
            return "Charging", "NoError"
        return "SuspendedEV", "NoError"
    if plugged and finishing:
        return "Finishing", "NoError"
    if plugged or authorized:
        return "Preparing", "NoError"
    return "Available", "NoError"


def _error_code(status: EvseStatus) -> str:
    text = (status.fault or "").lower()
    if "contactor" in text or "weld" in text:
        return "PowerSwitchFailure"
    if "meter" in text:
        return "PowerMeterFailure"
    if "pilot" in text or "state e" in text or "state d" in text:
        return "EVCommunicationError"
    return "OtherError"
