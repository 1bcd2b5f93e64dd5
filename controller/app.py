"""The composition root: the only module that knows which drivers, stores and links are in use.

`Charger` builds everything from the validated settings and runs it in one task group: the
control loop, the OCPP link, the status socket and the systemd watchdog. If any of them crashes
the whole service stops on purpose (systemd restarts it) and every output goes to the safe
state on the way out, whatever the exit path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from typing import TYPE_CHECKING, Any

from controller import __version__
from controller.charger.local import LocalOverrides
from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.charger.phase_wiring import phases_in_use
from controller.config import Settings, mask_url
from controller.damage_report import StateFile
from controller.damage_report import report as report_damage
from controller.dashboard_start import start_dashboard
from controller.drivers import ConnectorHardware, build_station
from controller.energy_status import phase_chooser
from controller.grid import build_main_fuse
from controller.local_controls import ChargerControls
from controller.ocpp.firmware_handlers import maintenance_for
from controller.ocpp.service import ChargePointService
from controller.ocpp_setup import ocpp_settings
from controller.readers import build_readers
from controller.sdnotify import Notifier
from controller.smart_charging import ProfileStore, SmartChargingConfig
from controller.state_lock import StateDirLock
from controller.station import ConnectorSnapshot
from controller.station_status import StationStatus
from controller.status import StatusServer, socket_path
from controller.tags import ConnectorView, TagDesk
from hw.clock import Clock, SystemClock

if TYPE_CHECKING:
    from controller.ocpp201.service import ChargingStationService
    from controller.web.server import Dashboard

log = logging.getLogger("chargectl")

EX_SOFTWARE = 70  # an internal error: systemd restarts the service
EX_RESET = 75  # the CSMS asked for a reset: systemd restarts the service
FREEZE_AFTER_S = 5.0  # start-up is over by then: imports, settings, schemas, the boot


class Charger:
    """A whole charge point: hardware, smart charging, OCPP, status and watchdog."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        hardware: dict[int, ConnectorHardware] | None = None,
    ) -> None:
        """`hardware` replaces what the configuration would build (benches and tests)."""
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.state_dir = settings.state.dir
        self.reset_requested: str | None = None
        self._stop = asyncio.Event()
        self.hardware: dict[int, ConnectorHardware] = hardware or build_station(
            settings, self.clock
        )
        first = settings.connector[0]
        self.profiles = ProfileStore(
            SmartChargingConfig(
                voltage_v=settings.station.voltage_v,
                phases=first.phases,
                number_of_connectors=len(settings.connector),
                max_current_a=max(c.max_current_a for c in settings.connector),
                max_power_w=max(c.max_current_a * c.phases for c in settings.connector)
                * settings.station.voltage_v,
            ),
            db_path=self.state_dir / "profiles.sqlite",
            fallback_current_a=settings.station.fallback_current_a,
        )
        self.ocpp: ChargePointService | ChargingStationService
        adapter: type[ChargePointService | ChargingStationService] = ChargePointService
        if settings.ocpp.version == "2.0.1":  # its library classes only when it is used
            from controller.ocpp201.service import ChargingStationService as adapter
        self.ocpp = adapter(
            ocpp_settings(settings, self.hardware), self, self.profiles, self.state_dir, self.clock
        )
        damages = [
            (kind, d)
            for kind, d in (
                (StateFile.PROFILES, self.profiles.damage),
                (StateFile.OCPP, self.ocpp.db.damage),
            )
            if d is not None
        ]
        report_damage(damages, self.ocpp.db, self.clock.now(), settings.station.fallback_current_a)
        units = [
            ConnectorUnit(
                connector_id=cid,
                driver=hw.driver,
                meter=hw.meter,
                max_current_a=hw.max_current_a,
                phase_chooser=phase_chooser(settings, cid),
            )
            for cid, hw in sorted(self.hardware.items())
        ]
        self.overrides = LocalOverrides(self.state_dir / "local.json")
        self.loop = ControlLoop(
            units,
            self.profiles,
            self.clock,
            permit=self.ocpp.charging_permitted,
            held_back=self.ocpp.held_back,
            session_start=self._session_start,
            on_change=self.ocpp.connector_changed,
            station_max_a=settings.station.max_current_a,
            min_current_a=settings.pilot.min_current_a,
            local_cap_a=self.overrides.cap_a,
            main_fuse=build_main_fuse(settings, self.hardware, self.clock),
        )
        self.controls = ChargerControls(self)
        self.web: Dashboard | None = None  # built by start_dashboard, after the boot is out
        self.web_ready = asyncio.Event()  # the dashboard is up (or off, or could not bind)
        self.notifier = Notifier()
        self.tags = TagDesk(
            build_readers(settings),
            {c.id: c.rfid.id_tag_style for c in settings.connector if c.rfid is not None}
            | ({None: settings.rfid.id_tag_style} if settings.rfid is not None else {}),
            self.ocpp.present_id_tag,
            self._tag_views,
            self.clock,
        )
        self.status = StationStatus(
            clock=self.clock,
            loop=self.loop,
            overrides=self.overrides,
            drivers={cid: hw.name for cid, hw in self.hardware.items()},
            adapter=self.ocpp,
            profiles=self.profiles,
            state_dir=self.state_dir,
            csms_url=mask_url(self._url()),
            web_url=lambda: None if self.web is None else self.web.url,
        )
        self.status_server = StatusServer(
            socket_path(self.state_dir), self.status_document, {"tag": self.tags.handle_request}
        )
        self.ocpp.maintenance = maintenance_for(self)

    # --- the Station protocol, as the OCPP side sees the hardware -------------------------

    @property
    def connector_ids(self) -> list[int]:
        return sorted(self.hardware)

    def snapshot(self, connector_id: int) -> ConnectorSnapshot:
        from hw.base import CpState, EvseStatus

        u = self.loop.unit(connector_id)
        status = u.status or EvseStatus(cp_state=CpState.A, offered_a=0.0, contactor_closed=False)
        limit_a = u.limit.value if u.limit is not None else None
        return ConnectorSnapshot(
            connector_id, status, limit_a, u.sample, u.meter is not None, phases_in_use(u.driver)
        )

    async def unlock_connector(self, connector_id: int) -> bool:
        return False  # no cable lock actuator on the supported hardware

    async def reset(self, kind: str) -> None:
        log.warning("CSMS requested a %s reset: restarting", kind)
        self.reset_requested = kind
        self._stop.set()

    def set_operative(self, connector_id: int, operative: bool) -> None:
        self.loop.set_operative(connector_id, operative)

    # --- running ------------------------------------------------------------------------

    def _session_start(self, connector_id: int) -> Any:
        tx = self.ocpp.active_transaction(connector_id)
        return None if tx is None else tx.start

    def _tag_views(self) -> list[ConnectorView]:
        views = []
        for cid in self.connector_ids:
            tx = self.ocpp.active_transaction(cid)
            plugged = self.snapshot(cid).status.plugged_in
            views.append(ConnectorView(cid, plugged, None if tx is None else tx.id_tag))
        return views

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        """Run until stopped; return the process exit status."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            async with asyncio.TaskGroup() as tg:
                loop_task = tg.create_task(self.loop.run(), name="control-loop")
                await _first(self.loop.started.wait(), loop_task)
                await self.status_server.start()
                # The CSMS link first: the dashboard's libraries load once its boot is out.
                ocpp_task = tg.create_task(self.ocpp.run(), name="ocpp")
                web_task = tg.create_task(self._start_web(), name="web-start")
                # Once start-up's objects are all built (modules, settings, schemas, the boot).
                asyncio.get_running_loop().call_later(FREEZE_AFTER_S, _freeze_startup_objects)
                watchdog_task = tg.create_task(self._watchdog(), name="watchdog")
                rfid_task = tg.create_task(self.tags.run(), name="rfid")
                self.notifier.ready(
                    f"{len(self.hardware)} connector(s), CSMS {mask_url(self._url())}"
                )
                log.info("chargectl %s running: %d connector(s)", __version__, len(self.hardware))
                await self._stop.wait()
                self.notifier.stopping()
                for t in (web_task, rfid_task, watchdog_task, ocpp_task, loop_task):
                    t.cancel()
        finally:
            with contextlib.suppress(Exception):
                await self.ocpp.aclose()
            await self.status_server.close()
            await self.loop.shutdown()
            await self.tags.close()  # after the outputs are safe
            if self.web is not None:
                await self.web.close()  # after the outputs are safe: a stuck client may delay it
        return EX_RESET if self.reset_requested else 0

    async def _start_web(self) -> None:
        booted = self.ocpp.handlers.first_sent
        self.web = await start_dashboard(self.settings, self.controls, booted, self.web_ready)
        if self.web is not None:  # its samples ride on the loop's whole-second tick
            self.loop.on_second.append(self.web.feed.tick)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval_s
        if interval is None:
            return
        while True:
            if self.loop.healthy():
                self.notifier.watchdog()
            else:
                log.error("control loop stalled: not feeding the watchdog")
            await asyncio.sleep(interval)

    def _url(self) -> str:
        return f"{self.settings.ocpp.url}/{self.settings.ocpp.charge_point_id}"

    def status_document(self) -> dict[str, Any]:
        return self.status.document()


async def _first(waiter: Any, task: asyncio.Task[None]) -> None:
    """Wait for `waiter`, but fail fast if `task` dies first."""
    w = asyncio.ensure_future(waiter)
    done, _ = await asyncio.wait({w, task}, return_when=asyncio.FIRST_COMPLETED)
    if w not in done:
        w.cancel()
        await task  # re-raises its exception


@functools.cache  # once per process: later objects are the running service's own
def _freeze_startup_objects() -> None:
    """Move everything built at start-up (modules, settings, schemas) out of the collector's
    reach: a full collection then walks only what the service allocates while running. On
    the build machine a full pass with the dashboard on took 32-55 ms before, under 0.1 ms
    after: the longest pause of the event loop that runs the pilot."""
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> int:
    """Run the service; raise StateDirBusy if another one holds the state directory."""
    with StateDirLock(settings.state.dir):
        charger = Charger(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stop_on_signal, charger, sig)
        return await charger.run()


def _stop_on_signal(charger: Charger, sig: signal.Signals) -> None:
    log.info("%s: stopping", sig.name)
    charger.stop()
