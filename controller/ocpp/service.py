"""The charge point's OCPP 1.6J adapter: the station model on one side, the central system on
the other, assembled from parts that each do one job.

State that must outlive a websocket (boot status, transactions, the queue, configuration keys)
lives in the station model and in SQLite, never in the per-connection `Session`: a fresh
session per connection loses nothing. The parts: `link` (connect, backoff), `boot` (boot,
heartbeat), `tx_flow` (starts and stops), `meter_loop` (MeterValues), `statuses`
(StatusNotification), `delivery` (the durable queue) and `handlers` (the CSMS's requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.adapter_service import AdapterService
from controller.charger.binding import LimitSource
from controller.logs import install_ocpp_filter
from controller.ocpp.auth_flow import LocalAuth
from controller.ocpp.auth_handlers import AuthHandlers
from controller.ocpp.boot import Boot
from controller.ocpp.cards import Cards
from controller.ocpp.config_keys import ConfigKeys, definitions
from controller.ocpp.core import AsyncioTimers, Core, Timers
from controller.ocpp.delivery import Delivery
from controller.ocpp.feature_profiles import supported_value
from controller.ocpp.handlers import Handlers
from controller.ocpp.journal import OcppJournal
from controller.ocpp.link import Link, Opener
from controller.ocpp.meter_loop import Metering
from controller.ocpp.metering import sampled_values
from controller.ocpp.outbox import OcppDb
from controller.ocpp.ports import Caller
from controller.ocpp.reserving import ReservationFlow
from controller.ocpp.security import Transport
from controller.ocpp.session import Session
from controller.ocpp.settings import OcppSettings
from controller.ocpp.statuses import Statuses
from controller.ocpp.tx_flow import TransactionFlow
from controller.ocpp.tx_watch import TransactionWatch
from controller.ocpp.ws_link import WebsocketOpener, failure_reporter
from controller.smart_charging import ProfileStore
from controller.station import (
    ConnectorStates,
    Events,
    Hardware,
    TransactionBook,
    TransactionInfo,
)
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.ocpp.ports import MaintenancePort

__all__ = ["ChargePointService", "TransactionInfo"]

log = logging.getLogger(__name__)


class ChargePointService(AdapterService):
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
        install_ocpp_filter()  # unsupported CSMS requests: one warning, not a traceback
        self.station = station
        self.profiles = profiles
        self.db = OcppDb(state_dir / "ocpp.sqlite")
        cfg = profiles.config
        self.keys = ConfigKeys(
            self.db,
            definitions(
                len(station.connector_ids),
                {
                    "ChargeProfileMaxStackLevel": str(cfg.max_stack_level),
                    "ChargingScheduleAllowedChargingRateUnit": ",".join(cfg.allowed_units),
                    "ChargingScheduleMaxPeriods": str(cfg.max_periods),
                    "MaxChargingProfilesInstalled": str(cfg.max_profiles),
                },
                rotation=settings.phase_rotation,
                switch_3to1=settings.switch_3to1_supported,
            ),
            Transport.of(settings),
        )
        events = Events()
        keys = self.keys
        journal = OcppJournal(
            self.db,
            lambda cid: sampled_values(
                station.snapshot(cid), keys.get_list("StopTxnSampledData"), "Transaction.End"
            ),
        )
        self.core = self._shared = Core(
            settings=settings,
            hardware=station,
            profiles=profiles,
            clock=clock,
            db=self.db,
            keys=self.keys,
            events=events,
            book=TransactionBook(journal, events),
            connectors=ConnectorStates(station.connector_ids, self.db, events),
            watch=TransactionWatch(settings.start_grace_s),
            timers=timers or AsyncioTimers(),
        )
        self.statuses = Statuses(self.core)
        self.auth: LocalAuth = LocalAuth(self.core)
        self.reserving = ReservationFlow(self.core, self.auth.db)
        self.flow: TransactionFlow = TransactionFlow(self.core, self.statuses, self.auth)
        self.flow.restore()
        self.delivery = Delivery(self.core, self.flow)
        self._security_events = self.delivery.recent_security_events
        self.boot = Boot(self.core, self.statuses, self.delivery)
        self.metering = Metering(self.core, self.flow, self.statuses)
        self.cards: Cards = Cards(self.core, self.flow, self.auth)
        self.handlers: Handlers = Handlers(
            self.core, self.flow, self.statuses, self.boot, self.metering, self.cards
        )
        self.handlers.auth_routes = AuthHandlers(self.auth, self.reserving)
        self._profiles_changed()
        self.link = Link(
            self.core,
            self.boot,
            self.handlers,
            opener or WebsocketOpener(lambda: self.core.settings, self.keys),
            failure_reporter(self.delivery.security_event),
            rng,
        )

    # --- what the daemon reads, besides `AdapterService` -------------------------------------

    @property
    def session(self) -> Session | None:
        """The session of the current connection, once its boot was accepted."""
        return self.link.session if self.core.session is not None else None

    @property
    def boots_sent(self) -> int:
        return self.boot.boots_sent

    def caller(self) -> Caller | None:
        return self.core.caller()

    def active_transaction(self, connector_id: int) -> TransactionInfo | None:
        return self.core.book.get(connector_id)

    def charging_permitted(self, connector_id: int) -> bool:
        return self.flow.charging_permitted(connector_id)

    def pause_reason(self, connector_id: int) -> str | None:
        return self.flow.pause_reason(connector_id)

    def held_back(self, connector_id: int) -> LimitSource | None:
        return self.flow.held_back(connector_id)

    def connector_status(self, connector_id: int) -> str:
        return self.statuses.current(connector_id)

    def status_document(self) -> dict[str, Any]:
        return {
            "link": self.link_state,
            "boot": self.boot_status,
            "queued_messages": self.db.pending(),
            "clock_offset_s": round(self.boot.clock_offset_s, 1),
        }

    @property
    def maintenance(self) -> MaintenancePort | None:
        return self.core.maintenance

    @maintenance.setter
    def maintenance(self, value: MaintenancePort | None) -> None:
        self.core.maintenance = value
        self._profiles_changed()

    def _profiles_changed(self) -> None:
        """SupportedFeatureProfiles lists exactly what the session will handle."""
        self.keys.set_fixed(
            "SupportedFeatureProfiles", supported_value(self.handlers.feature_profiles)
        )

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None:
        self.delivery.enqueue_notification(action, payload)

    # --- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect forever; cancel to stop."""
        self.core.spawn(self.flow.stop_power_loss(), "power-loss")
        self.core.spawn(self.reserving.run(), "auth-timers")
        metering = asyncio.create_task(self.metering.run(), name="metering")
        try:
            await self.link.run()
        finally:
            metering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await metering

    async def aclose(self) -> None:
        for t in await self._cancel_tasks():
            log.warning("%s did not stop in time; leaving it", t.get_name())
        self.db.close()
