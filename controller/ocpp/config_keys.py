"""OCPP 1.6 configuration keys: the Core and Smart Charging ones, typed, validated, persisted.

GetConfiguration lists them with their read-only flag; ChangeConfiguration validates the value
and answers Accepted, Rejected (bad value or read-only), RebootRequired or NotSupported
(unknown key). `AuthorizationKey` can be written but is never readable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from ocpp.v16.enums import ConfigurationStatus

from controller.ocpp.auth_keys import AUTH_KEYS
from controller.ocpp.outbox import OcppDb
from controller.ocpp.security import Transport, profile_refusal

log = logging.getLogger(__name__)

# The measurands this charger can actually sample (see the service's `_sampled_values`): a
# list naming anything else would be Accepted and then send nothing for it.
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
)
_DIGITS = re.compile(r"[0-9]{1,10}")
_ROTATIONS = ("RST", "RTS", "SRT", "STR", "TRS", "TSR", "NotApplicable", "Unknown")


def _int(lo: int, hi: int) -> Callable[[str], bool]:
    def check(v: str) -> bool:
        # ASCII digits only: int() would also take " 5", "+5", "5_0" and Arabic-Indic digits.
        return _DIGITS.fullmatch(v) is not None and lo <= int(v) <= hi

    return check


def _bool(v: str) -> bool:
    return v.lower() in ("true", "false")


def _csl(v: str) -> list[str] | None:
    """The items of a comma-separated list; None if one is empty (`a,,b`, a trailing comma)."""
    if v == "":
        return []
    items = [x.strip() for x in v.split(",")]
    return None if any(not x for x in items) else items


def _measurands(required: bool) -> Callable[[str], bool]:
    """Known, not repeated, at most MaxLength; `required` lists need one (an empty
    MeterValuesSampledData would silently stop every MeterValues)."""

    def check(v: str) -> bool:
        items = _csl(v)
        if items is None or (required and not items):
            return False
        return len(set(items)) == len(items) <= len(MEASURANDS) and all(
            x in MEASURANDS for x in items
        )

    return check


def _phase_rotation(connectors: int, wired: str | None = None) -> Callable[[str], bool]:
    """`0.RST,1.RST`: a connector number 0..n and one rotation, each connector once. A
    connector whose wiring the configuration states (`wired`, in the same notation) keeps it:
    the CSMS may fill in what is Unknown here, not contradict the installer."""
    known = {
        cid: rotation
        for cid, _, rotation in (i.partition(".") for i in (_csl(wired or "") or []))
        if rotation != "Unknown"
    }

    def check(v: str) -> bool:
        items = _csl(v)
        if not items:
            return False
        seen: set[int] = set()
        for item in items:
            cid, _, rotation = item.partition(".")
            if _DIGITS.fullmatch(cid) is None or rotation not in _ROTATIONS:
                return False
            if int(cid) > connectors or int(cid) in seen:
                return False
            if known.get(str(int(cid)), rotation) != rotation:
                return False
            seen.add(int(cid))
        return True

    return check


def _hex_key(v: str) -> bool:
    try:
        raw = bytes.fromhex(v)
    except ValueError:
        return False
    return 16 <= len(raw) <= 40


@dataclass(frozen=True, slots=True)
class KeyDef:
    name: str
    default: str
    readonly: bool
    check: Callable[[str], bool] | None = None
    reboot: bool = False
    secret: bool = False


def definitions(
    connectors: int,
    smart: dict[str, str],
    *,
    profiles: str = "Core,SmartCharging,RemoteTrigger",
    rotation: str | None = None,
    switch_3to1: bool = False,
) -> list[KeyDef]:
    """Every key with its default; `profiles`, `rotation` and `switch_3to1` come from the
    configuration (`feature_profiles`, `phase_keys`), so these keys say what this charger is."""
    rotation = rotation or ",".join(f"{cid}.Unknown" for cid in range(1, connectors + 1))
    sampled = (
        "Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import,Voltage"
    )
    return [
        KeyDef("AllowOfflineTxForUnknownId", "false", False, _bool),
        KeyDef("AuthorizeRemoteTxRequests", "false", False, _bool),
        KeyDef("ClockAlignedDataInterval", "0", False, _int(0, 86400)),
        KeyDef("ConnectionTimeOut", "60", False, _int(10, 3600)),
        KeyDef("ConnectorPhaseRotation", rotation, False, _phase_rotation(connectors, rotation)),
        KeyDef("GetConfigurationMaxKeys", "64", True),
        KeyDef("HeartbeatInterval", "300", False, _int(0, 86400)),
        KeyDef("LocalAuthorizeOffline", "true", False, _bool),
        KeyDef("LocalPreAuthorize", "false", False, _bool),
        KeyDef("MeterValuesAlignedData", "Energy.Active.Import.Register", False, _measurands(True)),
        KeyDef("MeterValuesAlignedDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("MeterValuesSampledData", sampled, False, _measurands(True)),
        KeyDef("MeterValuesSampledDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("MeterValueSampleInterval", "60", False, _int(0, 86400)),
        KeyDef("NumberOfConnectors", str(connectors), True),
        KeyDef("ResetRetries", "1", False, _int(0, 10)),
        KeyDef("StopTransactionOnEVSideDisconnect", "true", False, _bool),
        KeyDef("StopTransactionOnInvalidId", "true", False, _bool),
        KeyDef("StopTxnAlignedData", "", False, _measurands(False)),
        KeyDef("StopTxnAlignedDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("StopTxnSampledData", "Energy.Active.Import.Register", False, _measurands(False)),
        KeyDef("StopTxnSampledDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("SupportedFeatureProfiles", profiles, True),
        KeyDef("TransactionMessageAttempts", "3", False, _int(1, 100)),
        KeyDef("TransactionMessageRetryInterval", "30", False, _int(1, 3600)),
        KeyDef("UnlockConnectorOnEVSideDisconnect", "false", True),
        KeyDef("WebSocketPingInterval", "20", False, _int(0, 3600), reboot=True),
        KeyDef("ChargeProfileMaxStackLevel", smart["ChargeProfileMaxStackLevel"], True),
        KeyDef(
            "ChargingScheduleAllowedChargingRateUnit",
            smart["ChargingScheduleAllowedChargingRateUnit"],
            True,
        ),
        KeyDef("ChargingScheduleMaxPeriods", smart["ChargingScheduleMaxPeriods"], True),
        KeyDef("MaxChargingProfilesInstalled", smart["MaxChargingProfilesInstalled"], True),
        KeyDef("ConnectorSwitch3to1PhaseSupported", str(switch_3to1).lower(), True),
        KeyDef("SecurityProfile", "0", False, _int(0, 3), reboot=True),
        KeyDef("AuthorizationKey", "", False, _hex_key, reboot=True, secret=True),
        *(KeyDef(*row) for row in AUTH_KEYS),
    ]


class ConfigKeys:
    def __init__(self, db: OcppDb, defs: list[KeyDef], transport: Transport | None = None) -> None:
        self._db = db
        self._defs = {d.name: d for d in defs}
        # Key names are CiString50: matched whatever their case, answered in ours.
        self._folded = {d.name.lower(): d.name for d in defs}
        self._values = {d.name: d.default for d in defs}
        self._transport = transport
        for k, v in db.config_items().items():
            d = self._defs.get(k)
            # A value stored by an older, laxer version that fails today's check is ignored.
            if d is not None and not d.readonly and (d.check is None or d.check(v)):
                self._values[k] = v

    def canonical(self, name: str) -> str | None:
        """The key's own spelling for `name` in any case; None for a key we do not have."""
        return self._folded.get(name.lower())

    def set_fixed(self, name: str, value: str) -> None:
        """A read-only key's value, decided by the charger itself (not stored)."""
        self._values[name] = value

    def get(self, name: str) -> str:
        return self._values[name]

    def get_int(self, name: str) -> int:
        try:
            return int(self._values[name])
        except ValueError:
            return int(self._defs[name].default or 0)

    def get_bool(self, name: str) -> bool:
        return self._values[name].lower() == "true"

    def get_list(self, name: str) -> list[str]:
        return [x.strip() for x in self._values[name].split(",") if x.strip()]

    def listing(self, keys: list[str] | None) -> tuple[list[dict[str, object]], list[str]]:
        """(configurationKey entries, unknownKey) for GetConfiguration."""
        names = keys if keys else list(self._defs)
        known: list[dict[str, object]] = []
        unknown: list[str] = []
        for asked in names:
            name = self.canonical(asked)
            if name is None:
                unknown.append(asked)
                continue
            d = self._defs[name]
            entry: dict[str, object] = {"key": name, "readonly": d.readonly}
            if not d.secret:
                entry["value"] = self._values[name]
            known.append(entry)
        return known, unknown

    def change(self, asked: str, value: str) -> ConfigurationStatus:
        name = self.canonical(asked)
        if name is None:
            return ConfigurationStatus.not_supported
        d = self._defs[name]
        if d.readonly or (d.check is not None and not d.check(value)):
            return ConfigurationStatus.rejected
        if name == "SecurityProfile":
            if int(value) < int(self._values[name]):
                # The whitepaper forbids lowering the security profile.
                return ConfigurationStatus.rejected
            if self._transport is not None:
                why = profile_refusal(
                    int(value), self._transport, bool(self._values["AuthorizationKey"])
                )
                if why is not None:
                    log.warning("SecurityProfile %s refused: %s", value, why)
                    return ConfigurationStatus.rejected
        self._db.set_config(name, value)
        self._values[name] = value
        if d.reboot:
            return ConfigurationStatus.reboot_required
        return ConfigurationStatus.accepted
