"""OCPP 1.6 feature profiles: which CSMS requests belong to which, which this build implements,
and which the configuration enables.

A CSMS reads `SupportedFeatureProfiles` to learn what it may ask; a request of a profile that is
not enabled is recognised but not supported, so it gets the CALLERROR `NotSupported`, and only
an action OCPP 1.6 does not know gets `NotImplemented` (OCPP-J 1.6 §4.2.3). The `ocpp` library
answers the other way round, so the session asks `refusal` before the library sees a CALL.

All six profiles are implemented (`IMPLEMENTED`); `[ocpp] feature_profiles` turns any but
Core off.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ocpp.v16.enums import Action


class FeatureProfile(StrEnum):
    """The six profiles of OCPP 1.6 §3.2, spelt as `SupportedFeatureProfiles` lists them."""

    CORE = "Core"
    FIRMWARE_MANAGEMENT = "FirmwareManagement"
    LOCAL_AUTH_LIST_MANAGEMENT = "LocalAuthListManagement"
    RESERVATION = "Reservation"
    SMART_CHARGING = "SmartCharging"
    REMOTE_TRIGGER = "RemoteTrigger"


# Requests the central system sends us, per profile (OCPP 1.6 §3.2, the "initiated by Central
# System" half of each profile's message list; DataTransfer goes both ways).
CSMS_ACTIONS: dict[FeatureProfile, frozenset[Action]] = {
    FeatureProfile.CORE: frozenset(
        {
            Action.change_availability,
            Action.change_configuration,
            Action.clear_cache,
            Action.data_transfer,
            Action.get_configuration,
            Action.remote_start_transaction,
            Action.remote_stop_transaction,
            Action.reset,
            Action.unlock_connector,
        }
    ),
    FeatureProfile.FIRMWARE_MANAGEMENT: frozenset({Action.get_diagnostics, Action.update_firmware}),
    FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT: frozenset(
        {Action.get_local_list_version, Action.send_local_list}
    ),
    FeatureProfile.RESERVATION: frozenset({Action.cancel_reservation, Action.reserve_now}),
    FeatureProfile.SMART_CHARGING: frozenset(
        {
            Action.clear_charging_profile,
            Action.get_composite_schedule,
            Action.set_charging_profile,
        }
    ),
    FeatureProfile.REMOTE_TRIGGER: frozenset({Action.trigger_message}),
}

# Requests we send (for the documentation's table; a CSMS sending one of these to us is
# answered NotSupported like any known request we do not handle).
CP_ACTIONS: dict[FeatureProfile, frozenset[Action]] = {
    FeatureProfile.CORE: frozenset(
        {
            Action.authorize,
            Action.boot_notification,
            Action.data_transfer,
            Action.heartbeat,
            Action.meter_values,
            Action.start_transaction,
            Action.status_notification,
            Action.stop_transaction,
        }
    ),
    FeatureProfile.FIRMWARE_MANAGEMENT: frozenset(
        {Action.diagnostics_status_notification, Action.firmware_status_notification}
    ),
}

# Every 1.6 profile has its handlers (a test compares them with the session's routes); the
# configuration may enable fewer.
IMPLEMENTED: frozenset[FeatureProfile] = frozenset(FeatureProfile)

_ORDER = list(FeatureProfile)
_KNOWN_ACTIONS = frozenset(a.value for a in Action)


def profile_of(action: str) -> FeatureProfile | None:
    """The profile a CSMS request belongs to; None for one outside the six (security
    extension requests, or messages only a charge point sends)."""
    for profile, actions in CSMS_ACTIONS.items():
        if action in actions:
            return profile
    return None


def parse_profiles(names: Iterable[str]) -> tuple[FeatureProfile, ...]:
    """The configured profile names, checked: each one known and listed once, and
    Core always there. The ValueError names what is allowed."""
    allowed = ", ".join(p.value for p in _ORDER if p in IMPLEMENTED)
    chosen: list[FeatureProfile] = []
    for name in names:
        try:
            profile = FeatureProfile(name)
        except ValueError:
            raise ValueError(f"unknown feature profile {name!r}; allowed: {allowed}") from None
        if profile in chosen:
            raise ValueError(f"feature profile {name!r} is listed twice")
        chosen.append(profile)
    if FeatureProfile.CORE not in chosen:
        raise ValueError(f"feature profile 'Core' cannot be turned off; allowed: {allowed}")
    return tuple(p for p in _ORDER if p in chosen)


def default_profiles() -> tuple[FeatureProfile, ...]:
    return tuple(p for p in _ORDER if p in IMPLEMENTED)


def supported_value(enabled: Iterable[FeatureProfile]) -> str:
    """The `SupportedFeatureProfiles` value: the enabled profiles in the spec's order."""
    chosen = set(enabled)
    return ",".join(p.value for p in _ORDER if p in chosen)


def refusal(action: str, enabled: frozenset[FeatureProfile], routed: bool) -> str | None:
    """The CALLERROR code for a CSMS request we will not handle, or None to handle it.

    Unknown to OCPP 1.6: `NotImplemented`. Known, but its profile is not enabled here or we
    have no handler for it (a request only a charge point sends, a security-extension
    request): `NotSupported`.
    """
    if action not in _KNOWN_ACTIONS:
        return "NotImplemented"
    profile = profile_of(action)
    if profile is not None and profile not in enabled:
        return "NotSupported"
    if not routed:
        return "NotSupported"
    return None
