"""Decisions about a transaction's meter values, retries and confirmation. Pure: no I/O.

A bill is meterStop - meterStart, so neither may be a stand-in: a meter not read yet is not
0 Wh, and a register never runs backwards across a power cut. A transaction the CSMS has not
accepted is energy nobody can bill, so its messages are never given up while online.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError

from hw.base import MeterSample

# What the SQLite store (and most CSMS databases) can hold: a signed 64-bit integer.
ID_MIN = -(2**63)
ID_MAX = 2**63 - 1

# How long a transaction waits for a first good meter reading before it falls back.
METER_START_WAIT_S = 5.0


class MeterStartSource(StrEnum):
    READING = "reading"  # a fresh reading of the meter
    PERSISTED = "persisted"  # the last register value we reported, kept across restarts
    NONE = "none"  # no value at all: the transaction must not start yet


@dataclass(frozen=True, slots=True)
class MeterStart:
    energy_wh: float | None
    source: MeterStartSource


def good_energy_wh(sample: MeterSample | None) -> float | None:
    """The register of a sample, if it is one a bill can rest on."""
    if sample is None:
        return None
    value = sample.energy_wh
    if not math.isfinite(value) or value < 0:
        return None
    return value


def sample_is_finite(sample: MeterSample) -> bool:
    values = (sample.energy_wh, sample.power_w, *sample.current_a, *sample.voltage_v)
    return all(math.isfinite(v) for v in values)


def choose_meter_start(
    fresh_wh: float | None, persisted_wh: float | None, waited_out: bool
) -> MeterStart:
    """A fresh reading; after the bounded wait, the persisted register; else nothing."""
    if fresh_wh is not None:
        return MeterStart(fresh_wh, MeterStartSource.READING)
    if not waited_out:
        return MeterStart(None, MeterStartSource.NONE)
    if persisted_wh is not None:
        return MeterStart(persisted_wh, MeterStartSource.PERSISTED)
    return MeterStart(None, MeterStartSource.NONE)


def meter_stop_wh(
    fresh_wh: float | None, persisted_wh: float | None, meter_start_wh: float
) -> float:
    """Never below what was already reported, whatever the meter says after a power cut."""
    return max(v for v in (fresh_wh, persisted_wh, meter_start_wh) if v is not None)


def storable_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and ID_MIN <= value <= ID_MAX


def retry_delay_s(attempts: int, limit: int, interval_s: int) -> float:
    """OCPP's growing interval for the first `limit` attempts, then the longest one, forever."""
    return float(interval_s * min(max(attempts, 1), max(limit, 1)))


def start_overdue(
    *,
    confirmed: bool,
    link_up: bool,
    waiting_since_mono: float,
    now_mono: float,
    grace_s: float,
) -> bool:
    """True while a transaction must pause because the CSMS has not accepted its start."""
    if confirmed or not link_up:
        return False
    return now_mono - waiting_since_mono > grace_s


def profile_ids_storable(profile: dict[str, Any]) -> bool:
    return all(
        profile.get(key) is None or storable_id(profile.get(key))
        for key in ("charging_profile_id", "transaction_id")
    )


def check_profile_ids(profile: dict[str, Any]) -> None:
    """An id the store cannot hold is the CSMS's error, answered as such, never a crash."""
    if not profile_ids_storable(profile):
        raise PropertyConstraintViolationError(
            description="chargingProfileId or transactionId outside the signed 64-bit range"
        )
