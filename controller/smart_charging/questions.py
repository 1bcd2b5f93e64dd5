"""The questions the rest of the charger asks of the installed profiles, read-only.

Apart from the store's changes (what the CSMS installs or clears, what follows a transaction)
because they never change anything: the limit of a connector now, the station's cap, and the
composite schedule GetCompositeSchedule asks for, bounded in length (a week) and with the
fallback limit folded in, so what the CSMS is told is what the connector does. The functions
are pure; `ProfileQuestions` asks them on the store's current state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from controller.smart_charging import evaluator
from controller.smart_charging.model import (
    InstalledProfile,
    Limit,
    RateUnit,
    SmartChargingConfig,
    Transaction,
)

# GetCompositeSchedule answers for at most a week (the reply's `duration` says so). The work
# and the reply grow with the duration: 2^31-1 s took 50 s, a 25 MB reply and a 23 s event-loop
# stall; a week of ten daily profiles of 24 periods is a few ms and ~10 kB.
MAX_COMPOSITE_DURATION_S = 7 * 86400


def fallback_cap(
    current_a: float | None, unit: RateUnit, config: SmartChargingConfig
) -> float | None:
    """The fallback limit of one connector in `unit`, while it is in force (else None)."""
    if current_a is None:
        return None
    if unit is RateUnit.W:
        return current_a * config.voltage_v * config.phases
    return current_a


def target_connector(connector_id: int, config: SmartChargingConfig) -> int:
    """R46: for a station of one connector, the station total is that connector's."""
    if connector_id == 0 and config.number_of_connectors == 1:
        return 1
    return connector_id


def pieces(
    profiles: list[InstalledProfile],
    target: int,
    tx: Transaction | None,
    now: datetime,
    duration_s: int,
    unit: RateUnit,
    config: SmartChargingConfig,
    cap: float | None,
) -> list[evaluator.Piece]:
    """The composite of `target` from `now` for `duration_s` (at most a week), capped."""
    lo = evaluator.epoch(now)
    hi = lo + max(1, min(duration_s, MAX_COMPOSITE_DURATION_S))
    out = evaluator.composite(profiles, target, tx, lo, hi, unit, config)
    if cap is None or target == 0:
        return out
    return [
        p if p.value is not None and p.value <= cap else replace(p, value=cap, source=None)
        for p in out
    ]


def schedule(
    found: list[evaluator.Piece],
    connector_id: int,
    now: datetime,
    duration_s: int,
    unit: RateUnit,
    config: SmartChargingConfig,
) -> dict[str, Any]:
    """GetCompositeSchedule.conf's chargingSchedule from the pieces `pieces` found."""
    if duration_s == 0:
        found = found[:1]
    return evaluator.schedule_payload(
        found, evaluator.epoch(now), duration_s, unit, config, connector_id
    )


class ProfileQuestions:
    """The read side of `ProfileStore`: what it holds, asked at a given time."""

    config: SmartChargingConfig
    fallback_current_a: float
    _profiles: dict[int, InstalledProfile]
    _transactions: dict[int, Transaction]
    _fallback_since: str | None

    @property
    def fallback_active(self) -> bool:
        """True while the stored profiles may have been lost and the CSMS has not sent new ones."""
        return self._fallback_since is not None

    def installed(self) -> list[InstalledProfile]:
        return sorted(
            self._profiles.values(), key=lambda ip: (ip.connector_id, ip.profile.profile_id)
        )

    def transaction(self, connector_id: int) -> Transaction | None:
        """The open transaction the store was told of on a connector."""
        return self._transactions.get(connector_id)

    def limit_at(self, connector_id: int, now: datetime, unit: str = "A") -> Limit:
        limit = evaluator.limit_at(
            list(self._profiles.values()),
            connector_id,
            self._transactions.get(connector_id),
            now,
            RateUnit(unit),
            self.config,
        )
        cap = self._fallback_cap(unit)
        if cap is None or (limit.value is not None and limit.value <= cap):
            return limit
        return Limit(cap, limit.unit, None, None)

    def _fallback_cap(self, unit: str) -> float | None:
        """The fallback limit of one connector in `unit`, while it is in force."""
        current_a = None if self._fallback_since is None else self.fallback_current_a
        return fallback_cap(current_a, RateUnit(unit), self.config)

    def station_limit_at(self, now: datetime, unit: str = "A") -> Limit:
        """The ChargePointMaxProfile alone: the cap on the whole station."""
        return evaluator.limit_at(
            list(self._profiles.values()), 0, None, now, RateUnit(unit), self.config
        )

    def composite_pieces(
        self, connector_id: int, now: datetime, duration_s: int, unit: str
    ) -> list[evaluator.Piece]:
        target = target_connector(connector_id, self.config)
        return pieces(
            list(self._profiles.values()),
            target,
            self._transactions.get(target),
            now,
            duration_s,
            RateUnit(unit),
            self.config,
            self._fallback_cap(unit),
        )

    def composite_schedule(
        self, connector_id: int, now: datetime, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None:
        """GetCompositeSchedule.conf's chargingSchedule; None = Rejected (unknown connector)."""
        if not 0 <= connector_id <= self.config.number_of_connectors or duration_s < 0:
            return None
        rate = RateUnit(unit or "A")
        duration_s = min(duration_s, MAX_COMPOSITE_DURATION_S)
        found = self.composite_pieces(connector_id, now, duration_s, rate.value)
        return schedule(found, connector_id, now, duration_s, rate, self.config)
