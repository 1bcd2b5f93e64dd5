"""OCPP 2.0.1 charging profiles -> the profile store's model, with the rules of 2.0.1 that
differ from 1.6. Pure: no I/O, the station's state is passed in.

The store and its evaluator speak 1.6 (`controller.smart_charging`): one composite-schedule
engine for both versions. What 2.0.1 changes is checked here, before the store sees the
profile, and a refusal carries the `statusInfo` 2.0.1 answers with:

* `evseId` replaces `connectorId` (0 = the station); an EVSE we do not have is Rejected
  (K01.FR.28).
* ChargingStationMaxProfile is 1.6's ChargePointMaxProfile: EVSE 0 only, never Relative
  (K01.FR.38); ChargingStationExternalConstraints is the station's to report, never the
  CSMS's to set (K01.FR.22).
* A TxProfile names its transaction by our string id, and must (K01.FR.03); it goes on an
  EVSE > 0 (FR.16) whose running transaction has that id (FR.09, FR.33). The store binds it
  to the transaction running on the connector, so the id itself is not passed on.
* `chargingSchedule` is a list; without ISO 15118 exactly one (FR.34).
* Relative has no startSchedule (FR.41); Absolute and Recurring need one (FR.40).
* `phaseToUse` needs phase switching we do not offer on one phase (FR.19/20).
* A second profile with the same purpose and stack level on the same EVSE is Rejected
  (FR.06/39) instead of replacing the first as in 1.6, and so is a TxDefaultProfile at the
  level of one on EVSE 0, or the reverse (FR.52/53); the same id still replaces (FR.05).
* Numbers arrive as floats (the library does not re-parse 2.0.1 as Decimal and the schema has
  no multipleOf): limits are rounded to 0.1 here, as the text of the standard asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from controller.smart_charging import ChargingProfile, InstalledProfile, Purpose
from controller.smart_charging.convert import iso

MAX_PROFILE = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX = "TxProfile"
TX_DEFAULT = "TxDefaultProfile"


class Reason(StrEnum):
    """statusInfo.reasonCode of a Rejected SetChargingProfile (at most 20 characters)."""

    UNKNOWN_EVSE = "UnknownEVSE"
    TX_NOT_FOUND = "TxNotFound"
    INVALID_PROFILE = "InvalidProfile"
    INVALID_SCHEDULE = "InvalidSchedule"
    DUPLICATE_PROFILE = "DuplicateProfile"
    UNSUPPORTED = "UnsupportedParam"


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: Reason
    info: str

    def status_info(self) -> dict[str, str]:
        """statusInfo as the library's snake_case dict."""
        return {"reason_code": self.reason.value, "additional_info": self.info[:512]}


@dataclass(frozen=True, slots=True)
class Converted:
    """A 1.6-shaped profile (camelCase, as the store reads it) and the connector it goes on."""

    connector_id: int
    profile: dict[str, Any]


def _get(d: Mapping[str, Any], snake: str, camel: str) -> Any:
    """The library hands snake_case dicts; replay files and tests may hold camelCase."""
    return d[snake] if snake in d else d.get(camel)


def _limit(value: Any) -> Any:
    return round(float(value), 1) if isinstance(value, int | float) else value


def _period(p: Mapping[str, Any]) -> dict[str, Any]:
    out = {"startPeriod": _get(p, "start_period", "startPeriod"), "limit": _limit(p.get("limit"))}
    phases = _get(p, "number_phases", "numberPhases")
    if phases is not None:
        out["numberPhases"] = phases
    return out


def _schedule(
    profile: Mapping[str, Any], kind: str
) -> tuple[dict[str, Any] | None, Refusal | None]:
    schedules = _get(profile, "charging_schedule", "chargingSchedule")
    if not isinstance(schedules, list) or len(schedules) != 1:
        n = len(schedules) if isinstance(schedules, list) else 0
        why = f"exactly one chargingSchedule without ISO 15118, got {n}"
        return None, Refusal(Reason.INVALID_SCHEDULE, why)
    s = schedules[0]
    if not isinstance(s, Mapping):
        return None, Refusal(Reason.INVALID_SCHEDULE, "chargingSchedule[0] is not an object")
    periods = _get(s, "charging_schedule_period", "chargingSchedulePeriod") or []
    if any(_get(p, "phase_to_use", "phaseToUse") is not None for p in periods):
        return None, Refusal(Reason.UNSUPPORTED, "phaseToUse: no phase switching on one phase")
    start = _get(s, "start_schedule", "startSchedule")
    if kind == "Relative" and start is not None:
        return None, Refusal(Reason.INVALID_SCHEDULE, "a Relative profile has no startSchedule")
    if kind in ("Absolute", "Recurring") and start is None:
        return None, Refusal(Reason.INVALID_SCHEDULE, f"an {kind} profile needs startSchedule")
    out: dict[str, Any] = {
        "chargingRateUnit": _get(s, "charging_rate_unit", "chargingRateUnit"),
        "chargingSchedulePeriod": [_period(p) for p in periods],
    }
    for snake, camel in (
        ("duration", "duration"),
        ("start_schedule", "startSchedule"),
        ("min_charging_rate", "minChargingRate"),
    ):
        value = _get(s, snake, camel)
        if value is not None:
            out[camel] = _limit(value) if camel == "minChargingRate" else value
    return out, None


def to_store(
    evse_id: int,
    profile: Mapping[str, Any],
    *,
    evse_ids: Sequence[int],
    open_transactions: Mapping[int, str],
    installed: Iterable[InstalledProfile] = (),
    remote_start: bool = False,
) -> Converted | Refusal:
    """The profile for `ProfileStore.set_charging_profile`, or why 2.0.1 refuses it.

    `open_transactions` maps an EVSE to the id of its running transaction. With
    `remote_start`, the profile of a RequestStartTransaction: a TxProfile with no
    transactionId yet (F01.FR.11), installed when the transaction starts.
    """
    if evse_id != 0 and evse_id not in evse_ids:
        return Refusal(Reason.UNKNOWN_EVSE, f"evseId {evse_id} does not exist")
    purpose = _get(profile, "charging_profile_purpose", "chargingProfilePurpose")
    kind = _get(profile, "charging_profile_kind", "chargingProfileKind")
    tx_id = _get(profile, "transaction_id", "transactionId")
    if purpose == EXTERNAL:
        return Refusal(Reason.INVALID_PROFILE, "ChargingStationExternalConstraints is not set")
    if purpose == MAX_PROFILE and (evse_id != 0 or kind == "Relative"):
        why = "ChargingStationMaxProfile goes on evseId 0 and is not Relative"
        return Refusal(Reason.INVALID_PROFILE, why)
    if purpose != TX and tx_id is not None:
        return Refusal(Reason.INVALID_PROFILE, "transactionId is only for a TxProfile")
    if remote_start:
        if purpose != TX or tx_id is not None:
            why = "a RequestStartTransaction carries a TxProfile without transactionId"
            return Refusal(Reason.INVALID_PROFILE, why)
    elif purpose == TX:
        if evse_id == 0:
            return Refusal(Reason.INVALID_PROFILE, "a TxProfile goes on an evseId > 0")
        running = open_transactions.get(evse_id)
        if running is None:
            return Refusal(Reason.TX_NOT_FOUND, f"no transaction on EVSE {evse_id}")
        if tx_id != running:
            return Refusal(Reason.TX_NOT_FOUND, f"transactionId {tx_id!r} is not running here")
    profile_id = _get(profile, "id", "id")
    stack_level = _get(profile, "stack_level", "stackLevel")
    store_purpose = "ChargePointMaxProfile" if purpose == MAX_PROFILE else purpose
    for ip in installed:
        p = ip.profile
        # A TxDefaultProfile on EVSE 0 and one on an EVSE at the same level clash (FR.52/53).
        evse_clash = ip.connector_id == evse_id or (
            purpose == TX_DEFAULT and 0 in (ip.connector_id, evse_id)
        )
        if (
            p.profile_id != profile_id
            and evse_clash
            and p.stack_level == stack_level
            and p.purpose.value == store_purpose
        ):
            why = f"profile {p.profile_id} has stackLevel {stack_level} and this purpose here"
            return Refusal(Reason.DUPLICATE_PROFILE, why)
    schedule, refusal = _schedule(profile, kind)
    if refusal is not None or schedule is None:
        return refusal or Refusal(Reason.INVALID_SCHEDULE, "no schedule")
    out: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": store_purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    for snake, camel in (
        ("recurrency_kind", "recurrencyKind"),
        ("valid_from", "validFrom"),
        ("valid_to", "validTo"),
    ):
        value = _get(profile, snake, camel)
        if value is not None:
            out[camel] = value
    return Converted(evse_id, out)


def composite_to_v201(schedule_16: Mapping[str, Any], evse_id: int) -> dict[str, Any]:
    """The store's composite schedule as 2.0.1's CompositeScheduleType (snake_case)."""
    return {
        "evse_id": evse_id,
        "duration": int(schedule_16.get("duration", 0)),
        "schedule_start": schedule_16["startSchedule"],
        "charging_rate_unit": schedule_16["chargingRateUnit"],
        "charging_schedule_period": [
            {"start_period": p["startPeriod"], "limit": float(p["limit"])}
            | ({"number_phases": p["numberPhases"]} if "numberPhases" in p else {})
            for p in schedule_16["chargingSchedulePeriod"]
        ],
    }


def from_store(p: ChargingProfile, transaction_id: str | None) -> dict[str, Any]:
    """A stored profile as 2.0.1's ChargingProfileType (snake_case), for
    ReportChargingProfiles; a TxProfile names its transaction by our string id."""
    s = p.schedule
    schedule: dict[str, Any] = {
        "id": 1,
        "charging_rate_unit": s.unit.value,
        "charging_schedule_period": [
            {"start_period": x.start_s, "limit": x.limit}
            | ({} if x.number_phases is None else {"number_phases": x.number_phases})
            for x in s.periods
        ],
    }
    if s.duration_s is not None:
        schedule["duration"] = s.duration_s
    if s.start_schedule is not None:
        schedule["start_schedule"] = iso(s.start_schedule)
    if s.min_charging_rate is not None:
        schedule["min_charging_rate"] = s.min_charging_rate
    out: dict[str, Any] = {
        "id": p.profile_id,
        "stack_level": p.stack_level,
        "charging_profile_purpose": MAX_PROFILE
        if p.purpose is Purpose.CHARGE_POINT_MAX
        else p.purpose.value,
        "charging_profile_kind": p.kind.value,
        "charging_schedule": [schedule],
    }
    if p.purpose is Purpose.TX and transaction_id is not None:
        out["transaction_id"] = transaction_id
    if p.recurrency is not None:
        out["recurrency_kind"] = p.recurrency.value
    if p.valid_from is not None:
        out["valid_from"] = iso(p.valid_from)
    if p.valid_to is not None:
        out["valid_to"] = iso(p.valid_to)
    return out
