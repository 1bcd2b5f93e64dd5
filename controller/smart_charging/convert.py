"""OCPP JSON <-> the typed model, in one place.

Profiles arrive as camelCase wire JSON (replay files, raw frames) or as the `ocpp` library's
nested snake_case dicts whose numbers may be `Decimal`. Both are normalised here; anything
malformed raises `ProfileFormatError` naming the field, which the OCPP layer answers with a
CALLERROR (the library's schema check catches most of it first; replay files do not have one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from controller.smart_charging.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
)

# No charger draws 10 MW or 10 MA: anything larger is a mistake, not a limit.
MAX_RATE = Decimal(10_000_000)


class ProfileFormatError(ValueError):
    """The profile does not have the shape OCPP 1.6 requires; `code` is the CALLERROR code."""

    def __init__(self, field: str, message: str, code: str = "FormatViolation") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def normalise(obj: Any) -> Any:
    """Keys to snake_case at every level; Decimals stay Decimals until read."""
    if isinstance(obj, Mapping):
        return {_snake(str(k)): normalise(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [normalise(v) for v in obj]
    return obj


def parse_datetime(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ProfileFormatError(field, f"not an RFC 3339 date-time: {value!r}") from None
    else:
        raise ProfileFormatError(field, f"expected a date-time string, got {value!r}")
    if dt.tzinfo is None:
        raise ProfileFormatError(field, f"date-time without a time zone: {value!r}")
    try:
        # 0001-01-01T00:00:00+01:00 is a valid string whose UTC instant Python cannot hold.
        return dt.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise ProfileFormatError(field, f"date-time out of range: {value!r}") from None


def _int(d: Mapping[str, Any], key: str, path: str, required: bool = True) -> int | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ProfileFormatError(f"{path}{key}", "required")
        return None
    if isinstance(v, bool) or not isinstance(v, int | Decimal | float):
        raise ProfileFormatError(f"{path}{key}", f"expected an integer, got {v!r}")
    if int(v) != v:
        raise ProfileFormatError(f"{path}{key}", f"expected an integer, got {v!r}")
    return int(v)


def _decimal_1(d: Mapping[str, Any], key: str, path: str, required: bool = True) -> float | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ProfileFormatError(f"{path}{key}", "required")
        return None
    if isinstance(v, bool) or not isinstance(v, int | Decimal | float):
        raise ProfileFormatError(f"{path}{key}", f"expected a number, got {v!r}")
    if not Decimal(str(v)).is_finite() or abs(Decimal(str(v))) > MAX_RATE:
        # 1.7e308 A passes the schema but overflows once converted to W.
        raise ProfileFormatError(f"{path}{key}", f"{v} is out of range (at most {MAX_RATE})")
    scaled = Decimal(str(v)) * 10
    if scaled != scaled.to_integral_value():
        raise ProfileFormatError(f"{path}{key}", f"at most one decimal allowed, got {v}")
    return float(v)


def _enum(enum: Any, d: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
    v = d.get(key)
    if v is None:
        if required:
            raise ProfileFormatError(f"{path}{key}", "required")
        return None
    try:
        return enum(str(v))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ProfileFormatError(f"{path}{key}", f"{v!r} is not one of {allowed}") from None


def profile_from_ocpp(data: Mapping[str, Any]) -> ChargingProfile:
    """Build a profile from either JSON shape; raise ProfileFormatError on a malformed one."""
    if not isinstance(data, Mapping):
        raise ProfileFormatError("csChargingProfiles", "expected an object")
    d = normalise(data)
    sched = d.get("charging_schedule")
    if not isinstance(sched, Mapping):
        raise ProfileFormatError("chargingSchedule", "required object")
    raw_periods = sched.get("charging_schedule_period")
    if not isinstance(raw_periods, list) or not raw_periods:
        raise ProfileFormatError(
            "chargingSchedule.chargingSchedulePeriod", "a non-empty list is required"
        )
    periods = []
    for i, p in enumerate(raw_periods):
        path = f"chargingSchedule.chargingSchedulePeriod[{i}]."
        if not isinstance(p, Mapping):
            raise ProfileFormatError(path[:-1], "expected an object")
        start = _int(p, "start_period", path)
        limit = _decimal_1(p, "limit", path)
        assert start is not None and limit is not None
        periods.append(SchedulePeriod(start, limit, _int(p, "number_phases", path, False)))
    start_schedule = sched.get("start_schedule")
    valid_from = d.get("valid_from")
    valid_to = d.get("valid_to")
    profile_id = _int(d, "charging_profile_id", "")
    stack_level = _int(d, "stack_level", "")
    assert profile_id is not None and stack_level is not None
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=stack_level,
        purpose=_enum(Purpose, d, "charging_profile_purpose", ""),
        kind=_enum(Kind, d, "charging_profile_kind", ""),
        schedule=ChargingSchedule(
            unit=_enum(RateUnit, sched, "charging_rate_unit", "chargingSchedule."),
            periods=tuple(periods),
            duration_s=_int(sched, "duration", "chargingSchedule.", False),
            start_schedule=None
            if start_schedule is None
            else parse_datetime(start_schedule, "chargingSchedule.startSchedule"),
            min_charging_rate=_decimal_1(sched, "min_charging_rate", "chargingSchedule.", False),
        ),
        transaction_id=_int(d, "transaction_id", "", False),
        recurrency=_enum(Recurrency, d, "recurrency_kind", "", False),
        valid_from=None if valid_from is None else parse_datetime(valid_from, "validFrom"),
        valid_to=None if valid_to is None else parse_datetime(valid_to, "validTo"),
    )


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_to_wire(p: ChargingProfile) -> dict[str, Any]:
    """camelCase JSON, as the profile would be sent; also our persistence format."""
    sched: dict[str, Any] = {
        "chargingRateUnit": p.schedule.unit.value,
        "chargingSchedulePeriod": [
            {"startPeriod": x.start_s, "limit": x.limit}
            | ({} if x.number_phases is None else {"numberPhases": x.number_phases})
            for x in p.schedule.periods
        ],
    }
    if p.schedule.duration_s is not None:
        sched["duration"] = p.schedule.duration_s
    if p.schedule.start_schedule is not None:
        sched["startSchedule"] = iso(p.schedule.start_schedule)
    if p.schedule.min_charging_rate is not None:
        sched["minChargingRate"] = p.schedule.min_charging_rate
    out: dict[str, Any] = {
        "chargingProfileId": p.profile_id,
        "stackLevel": p.stack_level,
        "chargingProfilePurpose": p.purpose.value,
        "chargingProfileKind": p.kind.value,
        "chargingSchedule": sched,
    }
    if p.transaction_id is not None:
        out["transactionId"] = p.transaction_id
    if p.recurrency is not None:
        out["recurrencyKind"] = p.recurrency.value
    if p.valid_from is not None:
        out["validFrom"] = iso(p.valid_from)
    if p.valid_to is not None:
        out["validTo"] = iso(p.valid_to)
    return out
