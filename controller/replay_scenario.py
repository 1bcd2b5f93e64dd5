"""The scenario file of `chargectl replay`: its configuration and events, checked.

Apart from the replay because reading a file a person wrote is its own job: every mistake is
named by event and field (`ScenarioError`), and only a malformed file makes the replay exit
non-zero. What the engine then does with well-formed events is in `controller.replay`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.smart_charging import SmartChargingConfig
from controller.smart_charging.convert import ProfileFormatError, parse_datetime

ACTIONS = (
    "StartTransaction",
    "StopTransaction",
    "SetChargingProfile",
    "RemoteStartTransaction",
    "ClearChargingProfile",
    "GetCompositeSchedule",
)

_CONFIG_KEYS: dict[str, tuple[str, type]] = {
    "voltage": ("voltage_v", float),
    "phases": ("phases", int),
    "numberOfConnectors": ("number_of_connectors", int),
    "maxCurrentA": ("max_current_a", float),
    "maxPowerW": ("max_power_w", float),
    "ChargeProfileMaxStackLevel": ("max_stack_level", int),
    "ChargingScheduleAllowedChargingRateUnit": ("allowed_units", str),
    "ChargingScheduleMaxPeriods": ("max_periods", int),
    "MaxChargingProfilesInstalled": ("max_profiles", int),
}


class ScenarioError(Exception):
    """The scenario file itself is malformed; the message names the event and the field."""


@dataclass(frozen=True, slots=True)
class Event:
    index: int
    at: datetime
    action: str
    data: Mapping[str, Any]


def _config(raw: Any) -> SmartChargingConfig:
    if raw is None:
        return SmartChargingConfig()
    if not isinstance(raw, Mapping):
        raise ScenarioError("config: expected an object")
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _CONFIG_KEYS:
            raise ScenarioError(f"config.{key}: unknown key (allowed: {', '.join(_CONFIG_KEYS)})")
        name, kind = _CONFIG_KEYS[key]
        if kind is str:
            if not isinstance(value, str):
                raise ScenarioError(f"config.{key}: expected a string like 'Current,Power'")
            units = tuple(u.strip() for u in value.split(",") if u.strip())
            if not units or any(u not in ("Current", "Power") for u in units):
                raise ScenarioError(f"config.{key}: {value!r} must list Current and/or Power")
            kwargs[name] = units
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScenarioError(f"config.{key}: expected a number, got {value!r}")
            if kind is int and int(value) != value:
                raise ScenarioError(f"config.{key}: expected an integer, got {value!r}")
            if value < 0 or (key in ("numberOfConnectors", "phases", "voltage") and value <= 0):
                raise ScenarioError(f"config.{key}: {value!r} is out of range")
            kwargs[name] = kind(value)
    return SmartChargingConfig(**kwargs)


def _events(raw: Any) -> list[Event]:
    if not isinstance(raw, list):
        raise ScenarioError("events: expected a list")
    out = []
    for i, e in enumerate(raw):
        where = f"event {i}"
        if not isinstance(e, Mapping):
            raise ScenarioError(f"{where}: expected an object")
        action = e.get("action")
        where = f"event {i} ({action})" if isinstance(action, str) else where
        if action not in ACTIONS:
            raise ScenarioError(f"{where}: field 'action' must be one of {', '.join(ACTIONS)}")
        try:
            at = parse_datetime(e.get("at"), "at")
        except ProfileFormatError as exc:
            raise ScenarioError(f"{where}: field {exc}") from None
        if action in ("StartTransaction", "StopTransaction"):
            _require_int(e, "connectorId", where)
            if action == "StartTransaction":
                _require_int(e, "transactionId", where)
        else:
            req = e.get("request")
            if not isinstance(req, Mapping):
                raise ScenarioError(f"{where}: field 'request' must be an object")
        out.append(Event(i, at, action, e))
    return out


def _require_int(e: Mapping[str, Any], key: str, where: str) -> int:
    v = e.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ScenarioError(f"{where}: field '{key}' must be an integer, got {v!r}")
    return v


def load_scenario(text: str) -> tuple[SmartChargingConfig, list[Event]]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ScenarioError("expected an object with 'config' and 'events'")
    unknown = set(raw) - {"config", "events", "description", "expect"}
    if unknown:
        raise ScenarioError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    return _config(raw.get("config")), _events(raw.get("events"))
