"""The device model's values the station knows at any moment (B, the required components):
the clock, the profiles installed, availability, and what the settings fix. ReadOnly; the
variables a CSMS may set are in `variables`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from controller.ocpp.core import utc_iso
from controller.ocpp.settings import OcppSettings
from controller.ocpp201.variables import DataType, Live
from controller.smart_charging import ProfileStore
from hw.clock import Clock


def _const(value: str) -> Callable[[], str]:
    return lambda: value


def security_profile(s: OcppSettings) -> int:
    """3: client certificate; 2: TLS and a password; 1: a password; 0: none."""
    if s.client_cert:
        return 3
    if s.url.startswith("wss://"):
        return 2
    return 1 if s.password else 0


def live_values(
    s: OcppSettings, profiles: ProfileStore, clock: Clock, any_operative: Callable[[], bool]
) -> Live:
    fixed = {
        ("OCPPCommCtrlr", "MessageTimeout[Default]"): str(int(s.call_timeout_s)),
        ("SecurityCtrlr", "SecurityProfile"): str(security_profile(s)),
        ("SmartChargingCtrlr", "ProfileStackLevel"): str(profiles.config.max_stack_level),
        ("SmartChargingCtrlr", "PeriodsPerSchedule"): str(profiles.config.max_periods),
        ("ChargingStation", "SupplyPhases"): str(profiles.config.phases),
    }
    live: dict[tuple[str, str], tuple[DataType, Callable[[], str]]] = {
        name: (DataType.INTEGER, _const(value)) for name, value in fixed.items()
    }
    live[("ClockCtrlr", "DateTime")] = (
        DataType.STRING,
        lambda: utc_iso(clock.now().astimezone(UTC)),
    )
    live[("SmartChargingCtrlr", "Entries[ChargingProfiles]")] = (
        DataType.INTEGER,
        lambda: str(len(profiles.installed())),
    )
    live[("ChargingStation", "AvailabilityState")] = (
        DataType.STRING,
        lambda: "Available" if any_operative() else "Unavailable",
    )
    return live
