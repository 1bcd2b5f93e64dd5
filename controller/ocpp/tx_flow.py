"""When a transaction starts and stops: authorization, meterStart and meterStop, power loss.

The decisions live in the pure `transactions` and `tx_watch` modules and the state in the
station's `TransactionBook`; this part wires them to the hardware and the central system.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus

from controller.charger.binding import LimitSource
from controller.ocpp.auth_flow import LocalAuth
from controller.ocpp.core import Core
from controller.ocpp.statuses import Statuses
from controller.ocpp.transactions import MeterStartSource, good_energy_wh, meter_stop_wh
from controller.ocpp.tx_watch import NO_METER_TEXT
from controller.smart_charging import Transaction
from controller.station import (
    Authorization,
    EventKind,
    StationEvent,
    StopReason,
    TransactionInfo,
)
from controller.transaction_steps import open_transaction, release_after_stop
from hw.base import CpState

log = logging.getLogger(__name__)

_MAX_WH_KEY = "MaxEnergyOnInvalidId"

# A CSMS that answered the boot Pending or Rejected has said "not yet": no session starts
# (a free-vend tag, a local card) until it accepts. Offline, never answered, starts go on.
_NOT_YET = frozenset({RegistrationStatus.pending, RegistrationStatus.rejected})


class TransactionFlow:
    def __init__(self, core: Core, statuses: Statuses, auth: LocalAuth) -> None:
        self._core = core
        self._statuses = statuses
        self._auth = auth
        self._to_power_loss: list[TransactionInfo] = []
        # Sessions whose idTag the CSMS refused at the start, kept open (StopTransactionOnInvalidId
        # false): their local keys, with the register (Wh) when the answer came, from which
        # MaxEnergyOnInvalidId counts; `_spent` once that energy is delivered.
        self._refused: dict[str, float | None] = {}
        self._spent: set[str] = set()

    def _changed(self, connector_id: int) -> None:
        self._core.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, connector_id))

    def energy_wh(self, connector_id: int) -> float | None:
        return good_energy_wh(self._core.hardware.snapshot(connector_id).meter)

    # --- restart --------------------------------------------------------------------------

    def restore(self) -> None:
        """The book's open transactions come back from the journal; the profile store learns
        them from it (it keeps no copy of its own) before the control loop asks for a limit."""
        c = self._core
        connector_ids = set(c.hardware.connector_ids)
        restored = c.book.restore(connector_ids)
        c.profiles.restore_transactions(
            [Transaction(t.connector_id, t.transaction_id, t.start) for t in restored],
            connector_ids,
        )
        for tx in restored:
            if tx.transaction_id is None:
                c.watch.started(tx.connector_id, c.clock.monotonic())
            if c.settings.resume_transaction_after_power_loss:
                log.warning(
                    "resuming transaction %s after a restart", tx.transaction_id or tx.tx_key
                )
            else:
                self._to_power_loss.append(tx)

    async def stop_power_loss(self) -> None:
        """Transactions cut by a crash or power cut end with reason PowerLoss at start-up."""
        if not self._to_power_loss:
            return
        for _ in range(30):  # give the meter a moment for a real meterStop
            if all(self.energy_wh(t.connector_id) is not None for t in self._to_power_loss):
                break
            await asyncio.sleep(0.1)
        for tx in self._to_power_loss:
            log.warning(
                "transaction %s was cut by a restart: stopping it (PowerLoss)",
                tx.transaction_id or tx.tx_key,
            )
            self.stop(tx.connector_id, StopReason.POWER_LOSS)
        self._to_power_loss = []

    # --- what the daemon asks ---------------------------------------------------------------

    def charging_permitted(self, connector_id: int) -> bool:
        c = self._core
        tx = c.book.get(connector_id)
        return (
            tx is not None
            and self.held_back(connector_id) is None
            and (c.connectors.operative(connector_id) or c.connectors.scheduled(connector_id))
            and not any(t.connector_id == connector_id for t in self._to_power_loss)
            and not c.watch.overdue(
                connector_id, link_up=c.session is not None, mono=c.clock.monotonic()
            )
        )

    def pause_reason(self, connector_id: int) -> str | None:
        """Why the charger itself holds back a connector, for people reading `status`."""
        c = self._core
        tx = c.book.get(connector_id)
        held = self.held_back(connector_id)
        if held is LimitSource.INVALID_ID_ENERGY:
            return f"energy limit for an invalid card reached ({_MAX_WH_KEY})"
        if held is LimitSource.NO_TRANSACTION and tx is not None:
            return "the central system refused the idTag (StopTransactionOnInvalidId is false)"
        return c.watch.reason(connector_id, link_up=c.session is not None, mono=c.clock.monotonic())

    def held_back(self, connector_id: int) -> LimitSource | None:
        """Why a session whose idTag the central system refused gets no energy: none at all
        without MaxEnergyOnInvalidId, else once that much was delivered since the refusal (an
        unknown register cannot be counted, so it stops). None: not held back for that."""
        c = self._core
        tx = c.book.get(connector_id)
        if tx is None or tx.tx_key not in self._refused:
            return None
        allowed = c.keys.get(_MAX_WH_KEY)
        if allowed == "":
            return LimitSource.NO_TRANSACTION
        if tx.tx_key not in self._spent:
            since, now = self._refused[tx.tx_key], self._register_wh(connector_id)
            if since is not None and now is not None and now - since < int(allowed):
                return None
            log.warning(
                "connector %d: %s Wh delivered after the idTag was refused: paused",
                connector_id,
                allowed,
            )
            self._spent.add(tx.tx_key)
        return LimitSource.INVALID_ID_ENERGY

    def _register_wh(self, connector_id: int) -> float | None:
        reading = self.energy_wh(connector_id)
        return reading if reading is not None else self._core.db.last_register_wh(connector_id)

    def connector_changed(self, connector_id: int) -> None:
        c = self._core
        if c.hardware.snapshot(connector_id).status.cp_state is CpState.A:
            c.connectors.set_finishing(connector_id, False)
            if connector_id in c.book and c.keys.get_bool("StopTransactionOnEVSideDisconnect"):
                self.stop(connector_id, StopReason.EV_DISCONNECTED)
        self.maybe_start(connector_id)
        self._changed(connector_id)

    def learn(self, id_tag: str, id_tag_info: dict[str, Any]) -> None:
        """An idTagInfo the central system sent with another answer (StopTransaction.conf)."""
        self._auth.learn(id_tag, id_tag_info)

    # --- start ----------------------------------------------------------------------------

    def authorize(
        self,
        connector_id: int,
        id_tag: str,
        profile: dict[str, Any] | None,
        parent_id_tag: str | None = None,
    ) -> None:
        c = self._core
        expires = c.clock.monotonic() + c.keys.get_int("ConnectionTimeOut")
        c.connectors.authorize(connector_id, Authorization(id_tag, profile, expires, parent_id_tag))
        c.connectors.resume_after_timeout(connector_id)
        c.deadlines_changed.set()
        self.maybe_start(connector_id)
        self._changed(connector_id)

    def maybe_start(self, connector_id: int) -> None:
        c = self._core
        plugged = c.hardware.snapshot(connector_id).status.cp_state in (
            CpState.B,
            CpState.C,
            CpState.D,
        )
        if (
            connector_id in c.book
            or not c.connectors.operative(connector_id)
            or not plugged
            or c.connectors.finishing(connector_id)  # the car of the ended session is still in
            or c.boot_status in _NOT_YET  # the CSMS answered, but not yet with Accepted
        ):
            c.watch.forget_wait(connector_id)
            return
        auth = c.connectors.authorization(connector_id, c.clock.monotonic())
        if auth is None and c.settings.free_vend_id_tag:
            auth = Authorization(c.settings.free_vend_id_tag, None, 0.0)
        if auth is None or not c.connectors.admits(connector_id, auth):
            c.watch.forget_wait(connector_id)
            return
        meter_wh = self._meter_start(connector_id)
        if meter_wh is None:
            return  # retried by the metering task until a value is known
        tx = open_transaction(c, c.book, connector_id, auth, meter_wh, uuid.uuid4().hex)
        c.watch.started(connector_id, c.clock.monotonic())
        log.info("transaction started on connector %d for %s", connector_id, auth.id_tag)
        c.profiles.transaction_started(connector_id, None, tx.start, auth.profile)
        c.outbox_event.set()

    def _meter_start(self, connector_id: int) -> float | None:
        """meterStart: a fresh reading, waited for; else the persisted register; never a 0 that
        stands in for a meter not read. Without any meter the register is 0 and stays so."""
        c = self._core
        if not c.hardware.snapshot(connector_id).metered:
            return c.db.last_register_wh(connector_id) or 0.0
        decision = c.watch.meter_start(
            connector_id,
            self.energy_wh(connector_id),
            c.db.last_register_wh(connector_id),
            c.clock.monotonic(),
        )
        if decision.newly_missing:
            log.error("connector %d: %s", connector_id, NO_METER_TEXT)
            self._statuses.push(connector_id, force=True)
        if decision.source is MeterStartSource.PERSISTED:
            log.warning(
                "connector %d: meter not read; meterStart %.0f Wh is the last reported register",
                connector_id,
                decision.energy_wh,
            )
        return decision.energy_wh

    # --- confirmation and stop ----------------------------------------------------------------

    def confirmed(
        self, tx_key: str, transaction_id: int, id_tag_info: dict[str, Any] | None
    ) -> None:
        c = self._core
        for tx in c.book.confirm(tx_key, transaction_id):
            c.watch.confirmed(tx.connector_id)
            c.profiles.transaction_id_assigned(tx.connector_id, transaction_id)
            if self._auth.contradicts(tx.id_tag, self._auth.learn(tx.id_tag, id_tag_info)):
                self._statuses.local_list_conflict(tx.id_tag)
            status = (id_tag_info or {}).get("status", AuthorizationStatus.accepted)
            if status == AuthorizationStatus.accepted:
                continue
            if c.keys.get_bool("StopTransactionOnInvalidId"):
                log.warning("CSMS answered %s for the transaction's idTag: stopping", status)
                self.stop(tx.connector_id, StopReason.DEAUTHORIZED)
            else:
                allowed = c.keys.get(_MAX_WH_KEY)
                more = f"at most {allowed} Wh more" if allowed else "no energy"
                log.warning("CSMS answered %s for the transaction's idTag: %s", status, more)
                self._refused[tx.tx_key] = self._register_wh(tx.connector_id)
                self._changed(tx.connector_id)

    def stop(self, connector_id: int, reason: StopReason, id_tag: str | None = None) -> None:
        """End the session; `id_tag` is the card that ended it, if not the one that started it."""
        c = self._core
        tx = c.book.get(connector_id)
        if tx is None:
            return
        c.watch.confirmed(connector_id)
        meter_stop = meter_stop_wh(
            self.energy_wh(connector_id), c.db.last_register_wh(connector_id), tx.meter_start_wh
        )
        c.book.stop(connector_id, reason, meter_stop, c.now(), id_tag)
        self._refused.pop(tx.tx_key, None)
        self._spent.discard(tx.tx_key)
        log.info(
            "transaction %s on connector %d stopped: %s",
            tx.transaction_id or tx.tx_key,
            connector_id,
            reason.value,
        )
        if c.hardware.snapshot(connector_id).status.cp_state is not CpState.A:
            c.connectors.set_finishing(connector_id, True)
        release_after_stop(c, connector_id)
        c.outbox_event.set()
        self._changed(connector_id)
