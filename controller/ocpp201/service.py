"""The charging station's OCPP 2.0.1 adapter: the same station model, profile store and
durable queue as the 1.6 adapter (`controller.ocpp.service`), the same face towards the daemon
(`controller.app` picks one of the two by `[ocpp] version`), 2.0.1 towards the CSMS.

Parts: `flow` (starts, stops, TransactionEvents), `statuses` (StatusNotification), `boot`
(boot, heartbeat), `delivery` (the queue), `metering` (periodic Updated events), `handlers`
(the CSMS's requests), `link` (connect, backoff) and `session` (one websocket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from controller.adapter_service import AdapterService
from controller.charger.binding import LimitSource
from controller.logs import install_ocpp_filter
from controller.ocpp.core import Timers
from controller.ocpp.settings import OcppSettings
from controller.ocpp.tx_watch import TransactionWatch
from controller.ocpp201 import variables as v
from controller.ocpp201.authorization import Auth201
from controller.ocpp201.boot import Boot
from controller.ocpp201.cards import Cards
from controller.ocpp201.context import Context
from controller.ocpp201.delivery import Delivery
from controller.ocpp201.device_model import live_values, security_profile
from controller.ocpp201.flow import Flow
from controller.ocpp201.handlers import Handlers
from controller.ocpp201.link import Link, Opener, WebsocketOpener
from controller.ocpp201.maintenance import KeysView
from controller.ocpp201.metering import Metering
from controller.ocpp201.queue import EventDb, EventJournal
from controller.ocpp201.statuses import Statuses
from controller.smart_charging import ProfileStore
from controller.station import (
    ConnectorStates,
    Events,
    Hardware,
    StopReason,
    TransactionBook,
    TransactionInfo,
)
from hw.clock import Clock

log = logging.getLogger(__name__)

LIST_ENTRIES = ("LocalAuthListCtrlr", "Entries")
PROFILE = ("SecurityCtrlr", "SecurityProfile")  # with the password the CSMS set, if any


class ChargingStationService(AdapterService):
    def __init__(
        self,
        settings: OcppSettings,
        station: Hardware,
        profiles: ProfileStore,
        state_dir: Path,
        clock: Clock,
        *,
        opener: Opener | None = None,
        timers: Timers | None = None,
        rng: random.Random | None = None,
    ) -> None:
        install_ocpp_filter()
        self.station = station
        self.profiles = profiles
        self.db = EventDb(state_dir / "ocpp201.sqlite")
        events = Events()
        connectors = ConnectorStates(station.connector_ids, self.db, events)
        ids = station.connector_ids
        live = dict(live_values(settings, profiles, clock, connectors, self._status_word, ids))
        live[LIST_ENTRIES] = (v.DataType.INTEGER, lambda: str(self.auth.list_size()))
        live[PROFILE] = (v.DataType.INTEGER, lambda: str(security_profile(self._link_settings())))
        ctx = Context(
            settings=settings,
            hardware=station,
            profiles=profiles,
            clock=clock,
            db=self.db,
            variables=v.Variables(self.db, live),
            events=events,
            connectors=connectors,
            watch=TransactionWatch(settings.start_grace_s),
        )
        if timers is not None:
            ctx.timers = timers
        self.ctx = self._shared = ctx
        self._security_events = ctx.recent_security_events
        self.flow: Flow = Flow(ctx)
        ctx.book = TransactionBook(
            EventJournal(self.db, self.flow.started_payload, self.flow.ended_payload), events
        )
        self._restore()
        self.statuses = Statuses(ctx)
        self.delivery = Delivery(ctx, lambda tx_key, info: self.handlers.verdict(tx_key, info))
        self.boot = Boot(ctx, self.statuses, self.delivery)
        self.metering = Metering(ctx, self.flow)
        self.auth: Auth201 = Auth201(ctx)
        self.cards: Cards = Cards(ctx, self.flow, self.auth)
        self.handlers: Handlers = Handlers(ctx, self.flow, self.statuses, self.boot, self.cards)
        self.link = Link(
            ctx,
            self.handlers,
            opener or WebsocketOpener(self._link_settings),
            self.boot.session_main,
            rng,
        )
        self.keys = KeysView(ctx)  # what the diagnostics tarball lists

    def _restore(self) -> None:
        """Open transactions go on after a restart only if the settings say so; else they
        end with reason PowerLoss once the link task runs (see `run`)."""
        c = self.ctx
        self._to_power_loss: list[TransactionInfo] = []
        for tx in c.transactions.restore(set(c.hardware.connector_ids)):
            if c.settings.resume_transaction_after_power_loss:
                if c.profiles.transaction(tx.connector_id) is None:
                    c.profiles.transaction_started(tx.connector_id, None, tx.start)
            else:
                self._to_power_loss.append(tx)
                self.flow.held.add(tx.connector_id)

    def _link_settings(self) -> OcppSettings:
        return self.handlers.password.current(self.ctx.settings)

    def _status_word(self, connector_id: int) -> str:
        return self.statuses.current(connector_id).value

    # --- what the daemon reads, besides `AdapterService` -------------------------------------

    def active_transaction(self, connector_id: int) -> TransactionInfo | None:
        """The session, its id (ours, text) where `status` shows the central system's."""
        tx = self.ctx.transactions.get(connector_id)
        return None if tx is None else replace(tx, transaction_id_text=tx.tx_key)

    def charging_permitted(self, connector_id: int) -> bool:
        c = self.ctx
        return (
            connector_id in c.transactions
            and (c.connectors.operative(connector_id) or c.connectors.scheduled(connector_id))
            and not any(t.connector_id == connector_id for t in self._to_power_loss)
        )

    def pause_reason(self, connector_id: int) -> str | None:
        return None

    def held_back(self, connector_id: int) -> LimitSource | None:
        return None

    def connector_status(self, connector_id: int) -> str:
        tx = self.ctx.transactions.get(connector_id)
        state = None if tx is None else self.flow.states.get(tx.tx_key)
        return self.statuses.current(connector_id).value if state is None else state.value

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None:
        """A firmware or diagnostics report of the shared machinery, in 2.0.1's words."""
        self.delivery.enqueue_notification(*self.handlers.maintenance.translate(action, payload))

    @property
    def maintenance(self) -> Any:
        return self.ctx.maintenance

    @maintenance.setter
    def maintenance(self, value: Any) -> None:
        self.ctx.maintenance = value

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect forever; cancel to stop."""
        for tx in self._to_power_loss:
            log.warning("transaction %s was cut by a restart: ending it (PowerLoss)", tx.tx_key)
            self.flow.held.discard(tx.connector_id)
            self.flow.stop(tx.connector_id, StopReason.POWER_LOSS)
        self._to_power_loss = []
        loops = [
            asyncio.create_task(self.metering.run(), name="ocpp201-metering"),
            asyncio.create_task(self.handlers.reserving.run(), name="ocpp201-reservations"),
        ]
        try:
            await self.link.run()
        finally:
            for task in loops:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def aclose(self) -> None:
        await self._cancel_tasks()
        self.db.close()
