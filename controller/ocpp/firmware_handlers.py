"""UpdateFirmware and GetDiagnostics for OCPP 1.6J: a thin layer over controller.firmware and
controller.diagnostics.

`Maintenance` joins the protocol-free parts to one ChargePointService: statuses go through the
service's persistent queue (so they survive a restart and keep their order with the other
messages), and an accepted boot settles the last firmware switch. `register` adds the two
actions to a Session's routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import urllib.parse
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from controller.diagnostics.collect import DiagnosticsStatus, Sources
from controller.diagnostics.logbuffer import recent_log
from controller.diagnostics.uploader import DiagnosticsRequest, DiagnosticsUploader
from controller.firmware import transfer
from controller.firmware.install import Layout
from controller.firmware.model import FirmwareStatus, UpdateRequest
from controller.firmware.updater import FirmwareUpdater
from controller.timestamps import parse_time

if TYPE_CHECKING:
    from controller.ocpp.config_keys import ConfigKeys
    from controller.ocpp.outbox import OcppDb
    from controller.ocpp.ports import MaintenancePort
    from controller.ocpp.settings import OcppSettings


class _Station(Protocol):
    @property
    def connector_ids(self) -> list[int]: ...

    def reset(self, why: str) -> Any: ...


class MaintenanceHost(Protocol):
    """What Maintenance needs of the OCPP service (`ChargePointService` provides it)."""

    @property
    def settings(self) -> OcppSettings: ...

    @property
    def db(self) -> OcppDb: ...

    @property
    def keys(self) -> ConfigKeys: ...

    @property
    def station(self) -> _Station: ...

    @property
    def link_state(self) -> str: ...

    def now(self) -> datetime: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None: ...

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None: ...

    def active_transaction(self, connector_id: int) -> object | None: ...


class _Routed(Protocol):
    route_map: dict[Any, dict[str, Any]]


class _ChargerLike(Protocol):
    """What `maintenance_for` needs of the composition root."""

    @property
    def settings(self) -> Any: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def ocpp(self) -> Any: ...

    def status_document(self) -> dict[str, Any]: ...


log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 10.0
# Statuses of a transfer still under way; after a final one a trigger is answered Idle.
_UNDER_WAY = {"Downloading", "Downloaded", "Installing", "Uploading"}


def live_config_path() -> Path | None:
    """The file `chargectl run --config` read (run.py exports it as CHARGECTL_CONFIG)."""
    value = os.environ.get("CHARGECTL_CONFIG")
    return Path(value).resolve() if value else None


class Maintenance:
    def __init__(
        self,
        svc: MaintenanceHost,
        state_dir: Path,
        config: Callable[[], dict[str, Any]],
        status: Callable[[], dict[str, Any]],
        secrets: Callable[[], list[str]],
        layout: Layout | None = None,
        config_path: Path | None = None,
    ) -> None:
        self._svc = svc
        self.firmware = FirmwareUpdater(
            state_dir,
            layout if layout is not None else Layout.of_running(),
            config_path if config_path is not None else live_config_path(),
            report=self._report_firmware,
            idle=self._idle,
            restart=self._restart,
            now=svc.now,
        )
        self.diagnostics = DiagnosticsUploader(
            Sources(
                charge_point_id=svc.settings.charge_point_id,
                config=config,
                status=status,
                queue=lambda: {"queued_messages": svc.db.pending()},
                secrets=lambda: [*secrets(), svc.keys.get("AuthorizationKey")],
                recent_log=recent_log(),
                extra={"ocpp-keys.json": lambda: svc.keys.listing(None)[0]},
            ),
            state_dir / "diagnostics",
            report=self._report_diagnostics,
        )
        self._pending_diagnostics: dict[str, DiagnosticsRequest] = {}
        self._last: dict[str, str] = {}

    def current_status(self, action: str) -> str:
        """For TriggerMessage: the state of a transfer under way, else Idle."""
        status = self._last.get(action, "Idle")
        return status if status in _UNDER_WAY else "Idle"

    def routes(self) -> dict[str, dict[str, Any]]:
        return {
            Action.update_firmware: {"_on_action": self.on_update_firmware},
            Action.get_diagnostics: {
                "_on_action": self.on_get_diagnostics,
                "_after_action": self.after_get_diagnostics,
            },
        }

    # --- what the service calls ---------------------------------------------------------

    def boot_accepted(self) -> None:
        if self.firmware.on_boot_accepted():
            self._svc.spawn(self.firmware.run(), "firmware-update")

    # --- the edges ----------------------------------------------------------------------

    def _report_firmware(self, status: FirmwareStatus) -> None:
        log.info("firmware status: %s", status)
        self._last["FirmwareStatusNotification"] = str(status)
        self._svc.enqueue_notification("FirmwareStatusNotification", {"status": str(status)})

    def _report_diagnostics(self, status: DiagnosticsStatus) -> None:
        log.info("diagnostics status: %s", status)
        self._last["DiagnosticsStatusNotification"] = str(status)
        self._svc.enqueue_notification("DiagnosticsStatusNotification", {"status": str(status)})

    def _idle(self) -> bool:
        return all(self._svc.active_transaction(c) is None for c in self._svc.station.connector_ids)

    async def _restart(self) -> None:
        """Let the queue reach the CSMS (Installing above all), then restart the service."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                while self._svc.db.pending() and self._svc.link_state == "booted":  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        await self._svc.station.reset("firmware update")

    # --- OCPP -----------------------------------------------------------------------------

    def on_update_firmware(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> call_result.UpdateFirmware:
        req = UpdateRequest.of(
            location, parse_time(retrieve_date) or self._svc.now(), retries, retry_interval
        )
        if self.firmware.accept(req):
            log.info("UpdateFirmware from %s", transfer.shown_url(location))
            self._svc.spawn(self.firmware.run(), "firmware-update")
        return call_result.UpdateFirmware()

    def on_get_diagnostics(
        self,
        location: str,
        call_unique_id: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
        **_: Any,
    ) -> call_result.GetDiagnostics:
        scheme = urllib.parse.urlsplit(location).scheme.lower()
        if scheme not in transfer.UPLOAD_SCHEMES:
            log.warning("GetDiagnostics: cannot upload to a %r location", scheme)
            return call_result.GetDiagnostics()  # no file name: nothing will be uploaded
        req = DiagnosticsRequest.of(
            location,
            parse_time(start_time),
            parse_time(stop_time),
            retries,
            retry_interval,
            self._svc.now(),
        )
        self._pending_diagnostics[call_unique_id] = req
        return call_result.GetDiagnostics(file_name=self.diagnostics.file_name(req))

    def after_get_diagnostics(self, call_unique_id: str, **_: Any) -> None:
        req = self._pending_diagnostics.pop(call_unique_id, None)
        if req is not None:
            self._svc.spawn(self.diagnostics.run(req), "diagnostics-upload")


def register(session: _Routed, m: MaintenancePort | None) -> None:
    """Route UpdateFirmware and GetDiagnostics of `session` to the service's Maintenance;
    without one they have no route, and the session answers them NotSupported
    (`feature_profiles`)."""
    if m is not None:
        session.route_map.update(m.routes())


def maintenance_for(charger: _ChargerLike) -> Maintenance:
    from controller.config import masked_dump

    settings = charger.settings

    def secrets() -> list[str]:
        found = (settings.ocpp.password, settings.web.password)
        return [s.get_secret_value() for s in found if s is not None]

    return Maintenance(
        charger.ocpp,
        charger.state_dir,
        config=lambda: masked_dump(settings),
        status=charger.status_document,
        secrets=secrets,
    )
