"""The profile store: the installed profiles, persisted, and what follows from the CSMS's
requests and from transactions; the questions asked of them are in `questions`.

Transactions are not the store's to keep: the station's `TransactionBook` owns them, persisted
once in the OCPP journal. The store is told which one is open on which connector, at start-up
(`restore_transactions`, from the restored book) and afterwards as they start, get their id and
stop, and holds that in memory only: the anchor of Relative schedules and the life of
TxProfiles. Which TxProfile belongs to which transaction id is its own business, kept in the
profile's stored body (`tx_profiles`).

Every change is committed to SQLite on a writer thread (`profile_file`), so a slow SD card
never stalls the control loop: what the CSMS asks for comes into force once it is on disk, and
the session sends nothing (no Accepted) before it is, so an Accepted that reached the CSMS is
never lost to a power cut. Subscribers are called after every change so the control loop
re-evaluates at once instead of on its next tick.

If the file was damaged, the profiles it held (perhaps a ChargePointMaxProfile for the house's
supply) are unknown, so every connector is held to a conservative fallback current until the
CSMS sends a profile again. That state is itself stored, so a second restart does not forget it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controller.durable import Damage, Statement
from controller.smart_charging import rules, tx_profiles
from controller.smart_charging.convert import (
    ProfileFormatError,
    iso,
    profile_from_ocpp,
    profile_to_wire,
)
from controller.smart_charging.model import (
    ChargingProfile,
    InstalledProfile,
    Purpose,
    SetResult,
    SmartChargingConfig,
    Transaction,
)
from controller.smart_charging.profile_file import ProfileFile, fallback_statement
from controller.smart_charging.questions import ProfileQuestions

log = logging.getLogger(__name__)


def _whole_seconds(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return now.astimezone(UTC).replace(microsecond=0)


class ProfileStore(ProfileQuestions):
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
        self._subscribers: list[Callable[[], None]] = []
        self._file: ProfileFile | None = None
        self._fallback_since: str | None = None
        self.damage: Damage | None = None
        if db_path is not None:
            self._file = ProfileFile(db_path)
            self.damage = self._file.damage
            self._fallback_since, self._profiles = self._file.load()
            if self.damage is not None:
                self._fallback_since = iso(datetime.now(UTC))
                self._write([fallback_statement(self._fallback_since)])

    # --- persistence ----------------------------------------------------------------------

    def _write(self, statements: list[Statement]) -> None:
        """A fact of this charger (a transaction began or ended, so its TxProfiles go): in
        memory now, on disk on the writer thread."""
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
        return self._set(connector_id, profile, now, end_fallback=True)

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
        replaced = rules.replaced_by(self._profiles, connector_id, p)
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
        victims = rules.cleared_by(self._profiles, profile_id, connector_id, purpose, stack_level)
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

    # --- transactions: the station owns them, the store is told ----------------------------

    def restore_transactions(
        self, open_transactions: Iterable[Transaction], connector_ids: Collection[int]
    ) -> None:
        """At start-up, the transactions the station restored from its journal: they anchor
        Relative schedules again, and the stored TxProfiles of `connector_ids` are checked
        against them (`tx_profiles.reconcile`)."""
        for tx in open_transactions:
            self._transactions[tx.connector_id] = replace(tx, start=_whole_seconds(tx.start))
        self._rebind(tx_profiles.reconcile(self._profiles, self._transactions, connector_ids))
        self._changed()

    def transaction_started(
        self,
        connector_id: int,
        transaction_id: int | None,
        start: datetime,
        profile: Mapping[str, Any] | None = None,
    ) -> SetResult | None:
        """Anchor Relative schedules; install the RemoteStart profile as the TxProfile."""
        start = _whole_seconds(start)
        self._drop_tx_profiles(connector_id)
        self._transactions[connector_id] = Transaction(connector_id, transaction_id, start)
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
        self._rebind(tx_profiles.bind_to_id(self._profiles, connector_id, transaction_id))

    def transaction_stopped(self, connector_id: int) -> None:
        """R53: TxProfiles die with their transaction."""
        self._drop_tx_profiles(connector_id)
        self._transactions.pop(connector_id, None)
        self._changed()

    def _drop_tx_profiles(self, connector_id: int) -> None:
        self._rebind(
            tx_profiles.Rebinding(dropped=tx_profiles.tx_profile_ids(self._profiles, connector_id))
        )

    def _rebind(self, change: tx_profiles.Rebinding) -> None:
        """Store and apply a change of TxProfiles that follows a fact of the charger."""
        if not change:
            return
        statements: list[Statement] = [
            ("DELETE FROM profiles WHERE profile_id = ?", (pid,)) for pid in change.dropped
        ]
        statements += [
            (
                "UPDATE profiles SET body = ? WHERE profile_id = ?",
                (json.dumps(profile_to_wire(ip.profile)), pid),
            )
            for pid, ip in change.bound.items()
        ]
        self._write(statements)
        for pid in change.dropped:
            self._profiles.pop(pid, None)
        self._profiles.update(change.bound)
        if change.dropped:
            self._changed()
