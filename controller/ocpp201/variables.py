"""The start of the 2.0.1 device model: the variables the adapter itself reads, persisted.

A variable is (component, variable) with an Actual value; ReadWrite ones are changed by
SetVariables and kept in the queue's key-value table, so they survive a restart. This is the
subset the transaction and metering parts need today, not yet the full set of required
components (docs/ocpp.md, the 2.0.1 table, says which are missing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from controller.ocpp201.auth_variables import AUTH_DEFINITIONS
from controller.station import KeyValueStore


class DataType(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    STRING = "string"
    MEMBER_LIST = "MemberList"


@dataclass(frozen=True, slots=True)
class Definition:
    default: str
    data_type: DataType
    writable: bool = False
    min_value: int = 0


HEARTBEAT_INTERVAL = ("OCPPCommCtrlr", "HeartbeatInterval")
TX_UPDATED_INTERVAL = ("SampledDataCtrlr", "TxUpdatedInterval")
TX_UPDATED_MEASURANDS = ("SampledDataCtrlr", "TxUpdatedMeasurands")
STOP_TX_ON_EV_SIDE_DISCONNECT = ("TxCtrlr", "StopTxOnEVSideDisconnect")
STOP_TX_ON_INVALID_ID = ("TxCtrlr", "StopTxOnInvalidId")
EV_CONNECTION_TIMEOUT = ("TxCtrlr", "EVConnectionTimeOut")
# A variable's instance is kept in its name: "Name[Instance]".
MESSAGE_ATTEMPT_INTERVAL = ("OCPPCommCtrlr", "MessageAttemptInterval[TransactionEvent]")
MESSAGE_ATTEMPTS = ("OCPPCommCtrlr", "MessageAttempts[TransactionEvent]")
ALIGNED_INTERVAL = ("AlignedDataCtrlr", "Interval")
ALIGNED_MEASURANDS = ("AlignedDataCtrlr", "Measurands")
ITEMS_GET_REPORT = ("DeviceDataCtrlr", "ItemsPerMessage[GetReport]")
ITEMS_GET_VARIABLES = ("DeviceDataCtrlr", "ItemsPerMessage[GetVariables]")
ITEMS_SET_VARIABLES = ("DeviceDataCtrlr", "ItemsPerMessage[SetVariables]")
OFFLINE_TX_FOR_UNKNOWN_ID = ("AuthCtrlr", "OfflineTxForUnknownIdEnabled")

INT, BOOL = DataType.INTEGER, DataType.BOOLEAN
DEFINITIONS: dict[tuple[str, str], Definition] = {
    HEARTBEAT_INTERVAL: Definition("300", INT, writable=True),
    TX_UPDATED_INTERVAL: Definition("60", INT, writable=True),
    TX_UPDATED_MEASURANDS: Definition(
        "Energy.Active.Import.Register,Power.Active.Import,Current.Offered",
        DataType.MEMBER_LIST,
        writable=True,
    ),
    ALIGNED_INTERVAL: Definition("0", INT, writable=True),
    ALIGNED_MEASURANDS: Definition(
        "Energy.Active.Import.Register", DataType.MEMBER_LIST, writable=True
    ),
    STOP_TX_ON_EV_SIDE_DISCONNECT: Definition("true", BOOL),
    STOP_TX_ON_INVALID_ID: Definition("true", BOOL, writable=True),
    EV_CONNECTION_TIMEOUT: Definition("60", INT, writable=True, min_value=1),
    MESSAGE_ATTEMPT_INTERVAL: Definition("10", INT, writable=True, min_value=1),
    MESSAGE_ATTEMPTS: Definition("3", INT, writable=True, min_value=1),
    # Both the cable and an authorization start a transaction, either ends it.
    ("TxCtrlr", "TxStartPoint"): Definition("PowerPathClosed", DataType.MEMBER_LIST),
    ("TxCtrlr", "TxStopPoint"): Definition("EVConnected,Authorized", DataType.MEMBER_LIST),
    OFFLINE_TX_FOR_UNKNOWN_ID: Definition("false", BOOL, writable=True),
    ("SmartChargingCtrlr", "Enabled"): Definition("true", BOOL),
    ("SmartChargingCtrlr", "RateUnit"): Definition("A,W", DataType.MEMBER_LIST),
    ("SampledDataCtrlr", "TxStartedMeasurands"): Definition(
        "Energy.Active.Import.Register", DataType.MEMBER_LIST
    ),
    ("SampledDataCtrlr", "TxEndedMeasurands"): Definition(
        "Energy.Active.Import.Register", DataType.MEMBER_LIST
    ),
    ("SampledDataCtrlr", "TxEndedInterval"): Definition("0", INT),
    ("AlignedDataCtrlr", "TxEndedInterval"): Definition("0", INT),
    ("AlignedDataCtrlr", "TxEndedMeasurands"): Definition("", DataType.MEMBER_LIST),
    ("ClockCtrlr", "TimeSource"): Definition("NTP", DataType.MEMBER_LIST),  # the system's
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"): Definition("false", BOOL),  # no lock
    ("ChargingStation", "Available"): Definition("true", BOOL),
    # Larger requests are refused (GetVariables, SetVariables), larger reports split.
    ITEMS_GET_REPORT: Definition("20", INT),
    ITEMS_GET_VARIABLES: Definition("50", INT),
    ITEMS_SET_VARIABLES: Definition("50", INT),
    # The websocket's own frame limit: a larger frame ends the connection (RFC 6455 1009).
    ("DeviceDataCtrlr", "BytesPerMessage[GetReport]"): Definition("4194304", INT),
    ("DeviceDataCtrlr", "BytesPerMessage[GetVariables]"): Definition("4194304", INT),
    ("DeviceDataCtrlr", "BytesPerMessage[SetVariables]"): Definition("4194304", INT),
}
DEFINITIONS |= {n: Definition(d, DataType(t), writable=w) for n, d, t, w in AUTH_DEFINITIONS}
# Values the station knows at any moment (the clock, the profiles installed): ReadOnly.
Live = Mapping[tuple[str, str], tuple[DataType, Callable[[], str]]]
MEASURANDS = frozenset(
    {"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Current.Offered"}
)


def _key(name: tuple[str, str]) -> str:
    return f"_var.{name[0]}.{name[1]}"


def _refusal(value: str, d: Definition) -> str | None:
    """Why `value` cannot be set, or None."""
    if d.data_type is DataType.INTEGER:
        if not value.lstrip("-").isdigit() or int(value) < d.min_value:
            return f"an integer >= {d.min_value}"
    elif d.data_type is DataType.BOOLEAN and value not in ("true", "false"):
        return "true or false"
    elif d.data_type is DataType.MEMBER_LIST and not set(value.split(",")) <= MEASURANDS:
        return "measurands of " + ",".join(sorted(MEASURANDS))
    return None


def _rejected(text: str) -> dict[str, Any]:
    info = {"reason_code": "InvalidValue", "additional_info": text}
    return {"attribute_status": "Rejected", "attribute_status_info": info}


def _variable(name: str) -> dict[str, str]:
    base, _, instance = name.partition("[")
    return {"name": base} | ({"instance": instance.rstrip("]")} if instance else {})


def _component(name: str) -> dict[str, Any]:
    """ "EVSE@1" and "Connector@1.1" name a component of one EVSE (and connector)."""
    base, _, where = name.partition("@")
    if not where:
        return {"name": base}
    evse, _, connector = where.partition(".")
    located = {"id": int(evse)} | ({"connector_id": int(connector)} if connector else {})
    return {"name": base, "evse": located}


class Variables:
    def __init__(self, store: KeyValueStore, live: Live | None = None) -> None:
        self._store = store
        self._live = dict(live or {})
        stored = store.config_items()
        self._values = {name: stored.get(_key(name), d.default) for name, d in DEFINITIONS.items()}

    def get(self, name: tuple[str, str]) -> str:
        return self._values[name]

    def get_int(self, name: tuple[str, str]) -> int:
        return int(self._values[name])

    def get_bool(self, name: tuple[str, str]) -> bool:
        return self._values[name] == "true"

    def get_list(self, name: tuple[str, str]) -> tuple[str, ...]:
        return tuple(v for v in self._values[name].split(",") if v)

    def report_data(self, base: str) -> list[dict[str, Any]] | None:
        """GetBaseReport's ReportDataType list: every variable (FullInventory) or the
        writable ones (ConfigurationInventory); None for a report base not kept."""
        if base not in ("FullInventory", "ConfigurationInventory"):
            return None
        out = []
        kinds = {n: (d.data_type, d.writable) for n, d in DEFINITIONS.items()}
        kinds |= {n: (t, False) for n, (t, _) in self._live.items()}
        for (component, variable), (data_type, writable) in kinds.items():
            if base == "ConfigurationInventory" and not writable:
                continue
            attribute = {
                "type": "Actual",
                "value": self._value((component, variable)),
                "mutability": "ReadWrite" if writable else "ReadOnly",
            }
            out.append(
                {
                    "component": _component(component),
                    "variable": _variable(variable),
                    "variable_attribute": [attribute],
                    "variable_characteristics": {
                        "data_type": data_type.value,
                        "supports_monitoring": False,
                    },
                }
            )
        return out

    def _value(self, name: tuple[str, str]) -> str:
        live = self._live.get(name)
        return live[1]() if live is not None else self._values[name]

    def put(self, name: tuple[str, str], value: str) -> None:
        """A value the station itself sets (the boot's heartbeat interval)."""
        self._values[name] = value
        self._store.set_config(_key(name), value)

    def get_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One GetVariableResult for one GetVariableData (snake_case dicts)."""
        name, out = self._name(item)
        if name not in DEFINITIONS and name not in self._live:
            out["attribute_status"] = self._unknown(name)
        elif item.get("attribute_type", "Actual") != "Actual":
            out["attribute_status"] = "NotSupportedAttributeType"
        else:
            out |= {"attribute_status": "Accepted", "attribute_value": self._value(name)}
        return out

    def set_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One SetVariableResult for one SetVariableData."""
        name, out = self._name(item)
        d = DEFINITIONS.get(name)
        value = str(item.get("attribute_value", ""))
        if name in self._live:
            out |= _rejected("read only")
        elif d is None:
            out["attribute_status"] = self._unknown(name)
        elif item.get("attribute_type", "Actual") != "Actual":
            out["attribute_status"] = "NotSupportedAttributeType"
        elif not d.writable:
            out |= _rejected("read only")
        elif (why := _refusal(value, d)) is not None:
            out |= _rejected(f"expected {why}")
        else:
            self.put(name, value)
            out["attribute_status"] = "Accepted"
        return out

    @staticmethod
    def _name(item: Mapping[str, Any]) -> tuple[tuple[str, str], dict[str, Any]]:
        component = dict(item.get("component") or {})
        variable = dict(item.get("variable") or {})
        instance = variable.get("instance")
        name = str(variable.get("name", "")) + (f"[{instance}]" if instance else "")
        evse = component.get("evse") or {}
        where = "" if "id" not in evse else f"@{evse['id']}"
        if where and evse.get("connector_id") is not None:
            where += f".{evse['connector_id']}"
        return (str(component.get("name", "")) + where, name), {
            "component": component,
            "variable": variable,
        }

    def _unknown(self, name: tuple[str, str]) -> str:
        known = {c for c, _ in DEFINITIONS} | {c for c, _ in self._live}
        return "UnknownVariable" if name[0] in known else "UnknownComponent"
