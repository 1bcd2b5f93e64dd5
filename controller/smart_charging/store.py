"""The profile store: the installed profiles and running transactions, persisted, and the
questions the rest of the charger asks of them.

A thin stateful shell around the pure rules and evaluator. Every change is committed to SQLite
(rollback journal, synchronous=FULL) on a writer thread, so a slow SD card never stalls the
control loop: what the CSMS asks for comes into force once it is on disk, and the session sends
nothing (no Accepted) before it is, so an Accepted that reached the CSMS is never lost to a
power cut. Without a running event loop (tools, tests) the commit happens before the method
returns. Subscribers are called after every change so the control loop
re-evaluates at once instead of on its next tick.

If the file was damaged, the profiles it held (perhaps a ChargePointMaxProfile for the house's
supply) are unknown, so every connector is held to a conservative fallback current until the
CSMS sends a profile again. That state is itself stored, so a second restart does not forget it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controller.durable import Damage, Statement
from controller.smart_charging import evaluator, rules
from controller.smart_charging.convert import (
    ProfileFormatError,
    iso,
    profile_from_ocpp,
    profile_to_wire,
)
from controller.smart_charging.model import (
    ChargingProfile,
    InstalledProfile,
    Limit,
    Purpose,
    RateUnit,
    SetResult,
    SmartChargingConfig,
    Transaction,
)
from controller.smart_charging.profile_file import ProfileFile, fallback_statement

log = logging.getLogger(__name__)

# GetCompositeSchedule answers for at most a week (the reply's `duration` says so). The work
# and the reply grow with the duration: 2^31-1 s took 50 s, a 25 MB reply and a 23 s event-loop
# stall; a week of ten daily profiles of 24 periods is a few ms and ~10 kB.
MAX_COMPOSITE_DURATION_S = 7 * 86400


def _whole_seconds(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return now.astimezone(UTC).replace(microsecond=0)


class ProfileStore:
    def __init__(
        self,
        config: SmartChargingConfig,
        db_path: Path | None = None,
        fallback_current_a: float = 6.0,
    ) -> None:
        self.config = config
        self.fallback_current_a = fallback_current_a
        self._profiles: dict[int, InstalledProfile] = {}
        self._transactions: dict[int, Transaction] = {}
        self._pending_remote: dict[int, ChargingProfile] = {}
        self._subscribers: list[Callable[[], None]] = []
        self._file: ProfileFile | None = None
        self._fallback_since: str | None = None
        self.damage: Damage | None = None
        if db_path is not None:
            self._file = ProfileFile(db_path)
            self.damage = self._file.damage
            self._fallback_since, self._transactions, self._profiles = self._file.load()
            if self.damage is not None:
                self._fallback_since = iso(datetime.now(UTC))
                self._write([fallback_statement(self._fallback_since)])

    @property
    def fallback_active(self) -> bool:
        """True while the stored profiles may have been lost and the CSMS has not sent new ones."""
        return self._fallback_since is not None

    # --- persistence ----------------------------------------------------------------------

    def _write(self, statements: list[Statement]) -> None:
        """A fact of this charger (a transaction began or ended): in memory now, on disk on
        the writer thread; nothing is sent to the CSMS before it is on disk."""
        if self._file is not None:
            self._file.write(statements)

    def _write_then(self, statements: list[Statement], apply: Callable[[], None]) -> None:
        """What the CSMS asks for comes into force only once it is on disk."""
        if self._file is None:
            apply()
        else:
            self._file.write_then(statements, apply)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # --- changes --------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._subscribers.append(callback)

    def _changed(self) -> None:
        for cb in list(self._subscribers):
            cb()

    def replace_config(self, config: SmartChargingConfig) -> None:
        self.config = config
        self._changed()

    def set_charging_profile(
        self, connector_id: int, profile: Mapping[str, Any], now: datetime
    ) -> SetResult:
        """A SetChargingProfile from the CSMS; an accepted one ends the fallback limit."""
        result = self._set(connector_id, profile, now, end_fallback=True)
        return result

    def _set(
        self,
        connector_id: int,
        profile: Mapping[str, Any],
        now: datetime,
        end_fallback: bool,
        from_csms: bool = True,
    ) -> SetResult:
        now = _whole_seconds(now)
        try:
            p = profile_from_ocpp(profile)
        except ProfileFormatError as exc:
            return SetResult("Rejected", str(exc), call_error=exc.code)
        return self._install(connector_id, p, now, end_fallback, from_csms)

    def _install(
        self,
        connector_id: int,
        p: ChargingProfile,
        now: datetime,
        end_fallback: bool = False,
        from_csms: bool = True,
    ) -> SetResult:
        tx = self._transactions.get(connector_id)
        replaced = self._replaced_by(connector_id, p)
        count_after = len(self._profiles) - len(replaced) + 1
        result = rules.check_set(connector_id, p, self.config, tx, count_after)
        if not result.accepted:
            return result
        if p.purpose is Purpose.TX and tx is not None and p.transaction_id is None:
            # R5: a TxProfile without transactionId binds to the transaction running now.
            p = replace(p, transaction_id=tx.transaction_id)
        ip = InstalledProfile(connector_id, p, now)
        statements: list[Statement] = [
            ("DELETE FROM profiles WHERE profile_id = ?", (pid,)) for pid in replaced
        ]
        statements.append(
            (
                "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?)",
                (p.profile_id, connector_id, json.dumps(profile_to_wire(p)), iso(now)),
            )
        )
        ending_fallback = end_fallback and self._fallback_since is not None
        if ending_fallback:
            statements.append(fallback_statement(None))

        def apply() -> None:
            cur = self._transactions.get(connector_id)
            if (
                p.purpose is Purpose.TX
                and tx is not None
                and (cur is None or cur.start != tx.start)
            ):
                # Its transaction ended while it was being stored: it dies with it (R53).
                self._write([("DELETE FROM profiles WHERE profile_id = ?", (p.profile_id,))])
                return
            for pid in replaced:
                self._profiles.pop(pid, None)
            self._profiles[p.profile_id] = ip
            if ending_fallback:
                log.warning(
                    "the CSMS sent a charging profile: the %.0f A fallback limit ends",
                    self.fallback_current_a,
                )
                self._fallback_since = None
            self._changed()

        if from_csms:
            self._write_then(statements, apply)
        else:
            self._write(statements)
            apply()
        return SetResult("Accepted", "", profile=p)

    def _replaced_by(self, connector_id: int, p: ChargingProfile) -> list[int]:
        """R15 same id anywhere; R16 same stack level and purpose on the same connector."""
        out = []
        for pid, ip in self._profiles.items():
            same_slot = (
                ip.connector_id == connector_id
                and ip.profile.stack_level == p.stack_level
                and ip.profile.purpose is p.purpose
            )
            if pid == p.profile_id or same_slot:
                out.append(pid)
        return out

    def check_remote_start_profile(
        self, connector_id: int | None, profile: Mapping[str, Any], now: datetime
    ) -> SetResult:
        try:
            p = profile_from_ocpp(profile)
        except ProfileFormatError as exc:
            return SetResult("Rejected", str(exc), call_error=exc.code)
        return rules.check_remote_start(connector_id, p, self.config)

    def clear_charging_profile(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> str:
        """R50/R51: `id` alone selects; otherwise an AND of the filters. Accepted | Unknown."""
        if profile_id is not None:
            victims = [profile_id] if profile_id in self._profiles else []
        else:
            victims = [
                pid
                for pid, ip in self._profiles.items()
                if (connector_id is None or ip.connector_id == connector_id)
                and (purpose is None or ip.profile.purpose.value == purpose)
                and (stack_level is None or ip.profile.stack_level == stack_level)
            ]
        if not victims:
            return "Unknown"

        def apply() -> None:
            for pid in victims:
                self._profiles.pop(pid, None)
            self._changed()

        self._write_then(
            [("DELETE FROM profiles WHERE profile_id = ?", (pid,)) for pid in victims], apply
        )
        return "Accepted"

    # --- transactions ---------------------------------------------------------------------

    def transaction(self, connector_id: int) -> Transaction | None:
        return self._transactions.get(connector_id)

    def transaction_started(
        self,
        connector_id: int,
        transaction_id: int | None,
        start: datetime,
        profile: Mapping[str, Any] | None = None,
    ) -> SetResult | None:
        """Anchor Relative schedules; install the RemoteStart profile as the TxProfile."""
        start = _whole_seconds(start)
        tx = Transaction(connector_id, transaction_id, start)
        self._drop_tx_profiles(
            connector_id,
            extra=[
                (
                    "INSERT OR REPLACE INTO transactions VALUES (?, ?, ?)",
                    (connector_id, transaction_id, iso(start)),
                ),
            ],
        )
        self._transactions[connector_id] = tx
        result: SetResult | None = None
        if profile is not None:
            result = self._set(connector_id, profile, start, end_fallback=False, from_csms=False)
            if not result.accepted:
                log.warning("RemoteStart profile not installed: %s", result.reason)
        self._changed()
        return result

    def transaction_id_assigned(self, connector_id: int, transaction_id: int) -> None:
        tx = self._transactions.get(connector_id)
        if tx is None:
            return
        self._transactions[connector_id] = replace(tx, transaction_id=transaction_id)
        statements: list[Statement] = [
            (
                "UPDATE transactions SET transaction_id = ? WHERE connector_id = ?",
                (transaction_id, connector_id),
            ),
        ]
        dropped = []
        for pid, ip in list(self._profiles.items()):
            if ip.connector_id != connector_id or ip.profile.purpose is not Purpose.TX:
                continue
            quoted = ip.profile.transaction_id
            if quoted is not None and quoted != transaction_id:
                # Accepted while the id was unknown, for a transaction that is not this one.
                log.warning(
                    "dropping TxProfile %d: it names transaction %d, the CSMS assigned %d",
                    pid,
                    quoted,
                    transaction_id,
                )
                dropped.append(pid)
                statements.append(("DELETE FROM profiles WHERE profile_id = ?", (pid,)))
                continue
            p = replace(ip.profile, transaction_id=transaction_id)
            self._profiles[pid] = replace(ip, profile=p)
            statements.append(
                (
                    "UPDATE profiles SET body = ? WHERE profile_id = ?",
                    (json.dumps(profile_to_wire(p)), pid),
                )
            )
        self._write(statements)
        for pid in dropped:
            del self._profiles[pid]
        if dropped:
            self._changed()

    def transaction_stopped(self, connector_id: int) -> None:
        """R53: TxProfiles die with their transaction."""
        self._drop_tx_profiles(
            connector_id,
            extra=[("DELETE FROM transactions WHERE connector_id = ?", (connector_id,))],
        )
        self._transactions.pop(connector_id, None)
        self._changed()

    def _drop_tx_profiles(self, connector_id: int, extra: list[Statement]) -> None:
        victims = [
            pid
            for pid, ip in self._profiles.items()
            if ip.connector_id == connector_id and ip.profile.purpose is Purpose.TX
        ]
        self._write(
            [("DELETE FROM profiles WHERE profile_id = ?", (pid,)) for pid in victims] + extra
        )
        for pid in victims:
            del self._profiles[pid]

    # --- questions ------------------------------------------------------------------------

    def installed(self) -> list[InstalledProfile]:
        return sorted(
            self._profiles.values(), key=lambda ip: (ip.connector_id, ip.profile.profile_id)
        )

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
        if self._fallback_since is None:
            return None
        cap = self.fallback_current_a
        if RateUnit(unit) is RateUnit.W:
            cap *= self.config.voltage_v * self.config.phases
        return cap

    def station_limit_at(self, now: datetime, unit: str = "A") -> Limit:
        """The ChargePointMaxProfile alone: the cap on the whole station."""
        return evaluator.limit_at(
            list(self._profiles.values()), 0, None, now, RateUnit(unit), self.config
        )

    def composite_pieces(
        self, connector_id: int, now: datetime, duration_s: int, unit: str
    ) -> list[evaluator.Piece]:
        lo = evaluator.epoch(now)
        hi = lo + max(1, min(duration_s, MAX_COMPOSITE_DURATION_S))
        target = connector_id
        if connector_id == 0 and self.config.number_of_connectors == 1:
            target = 1  # R46: for one connector, the station total is that connector's
        pieces = evaluator.composite(
            list(self._profiles.values()),
            target,
            self._transactions.get(target),
            lo,
            hi,
            RateUnit(unit),
            self.config,
        )
        cap = self._fallback_cap(unit)
        if cap is None or target == 0:
            return pieces
        # What the CSMS is told is what the connector does: the fallback included.
        return [
            p if p.value is not None and p.value <= cap else replace(p, value=cap, source=None)
            for p in pieces
        ]

    def composite_schedule(
        self, connector_id: int, now: datetime, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None:
        """GetCompositeSchedule.conf's chargingSchedule; None = Rejected (unknown connector)."""
        if not 0 <= connector_id <= self.config.number_of_connectors or duration_s < 0:
            return None
        rate = RateUnit(unit or "A")
        duration_s = min(duration_s, MAX_COMPOSITE_DURATION_S)
        pieces = self.composite_pieces(connector_id, now, duration_s, rate.value)
        if duration_s == 0:
            pieces = pieces[:1]
        return evaluator.schedule_payload(
            pieces, evaluator.epoch(now), duration_s, rate, self.config, connector_id
        )
