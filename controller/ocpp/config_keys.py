"""OCPP 1.6 configuration keys: the Core and Smart Charging ones, typed, validated, persisted.

GetConfiguration lists them with their read-only flag; ChangeConfiguration validates the value
and answers Accepted, Rejected (bad value or read-only), RebootRequired or NotSupported
(unknown key). `AuthorizationKey` can be written but is never readable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from controller.ocpp.outbox import OcppDb

MEASURANDS = (
    "Energy.Active.Import.Register",
    "Energy.Active.Import.Interval",
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
)


def _int(lo: int, hi: int) -> Callable[[str], bool]:
    def check(v: str) -> bool:
        try:
            return lo <= int(v) <= hi
        except ValueError:
            return False

    return check


def _bool(v: str) -> bool:
    return v.lower() in ("true", "false")


def _measurands(v: str) -> bool:
    items = [x.strip() for x in v.split(",") if x.strip()]
    return all(x in MEASURANDS for x in items)


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


def definitions(connectors: int, smart: dict[str, str]) -> list[KeyDef]:
    sampled = (
        "Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import,Voltage"
    )
    return [
        KeyDef("AllowOfflineTxForUnknownId", "false", False, _bool),
        KeyDef("AuthorizationCacheEnabled", "false", True),
        KeyDef("AuthorizeRemoteTxRequests", "false", False, _bool),
        KeyDef("ClockAlignedDataInterval", "0", False, _int(0, 86400)),
        KeyDef("ConnectionTimeOut", "60", False, _int(10, 3600)),
        KeyDef("ConnectorPhaseRotation", "0.RST", False, lambda v: bool(v.strip())),
        KeyDef("GetConfigurationMaxKeys", "64", True),
        KeyDef("HeartbeatInterval", "300", False, _int(0, 86400)),
        KeyDef("LocalAuthorizeOffline", "true", False, _bool),
        KeyDef("LocalPreAuthorize", "false", False, _bool),
        KeyDef("MeterValuesAlignedData", "Energy.Active.Import.Register", False, _measurands),
        KeyDef("MeterValuesAlignedDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("MeterValuesSampledData", sampled, False, _measurands),
        KeyDef("MeterValuesSampledDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("MeterValueSampleInterval", "60", False, _int(0, 86400)),
        KeyDef("NumberOfConnectors", str(connectors), True),
        KeyDef("ResetRetries", "1", False, _int(0, 10)),
        KeyDef("StopTransactionOnEVSideDisconnect", "true", False, _bool),
        KeyDef("StopTransactionOnInvalidId", "true", False, _bool),
        KeyDef("StopTxnAlignedData", "", False, _measurands),
        KeyDef("StopTxnAlignedDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("StopTxnSampledData", "Energy.Active.Import.Register", False, _measurands),
        KeyDef("StopTxnSampledDataMaxLength", str(len(MEASURANDS)), True),
        KeyDef("SupportedFeatureProfiles", "Core,SmartCharging,RemoteTrigger", True),
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
        KeyDef("ConnectorSwitch3to1PhaseSupported", "false", True),
        KeyDef("SecurityProfile", "0", False, _int(0, 3), reboot=True),
        KeyDef("AuthorizationKey", "", False, _hex_key, reboot=True, secret=True),
    ]


class ConfigKeys:
    def __init__(self, db: OcppDb, defs: list[KeyDef]) -> None:
        self._db = db
        self._defs = {d.name: d for d in defs}
        self._values = {d.name: d.default for d in defs}
        for k, v in db.config_items().items():
            if k in self._defs and not self._defs[k].readonly:
                self._values[k] = v

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
        for name in names:
            d = self._defs.get(name)
            if d is None:
                unknown.append(name)
                continue
            entry: dict[str, object] = {"key": name, "readonly": d.readonly}
            if not d.secret:
                entry["value"] = self._values[name]
            known.append(entry)
        return known, unknown

    def change(self, name: str, value: str) -> str:
        d = self._defs.get(name)
        if d is None:
            return "NotSupported"
        if d.readonly or (d.check is not None and not d.check(value)):
            return "Rejected"
        if name == "SecurityProfile" and int(value) < int(self._values[name]):
            return "Rejected"  # the whitepaper forbids lowering the security profile
        self._db.set_config(name, value)
        self._values[name] = value
        return "RebootRequired" if d.reboot else "Accepted"
