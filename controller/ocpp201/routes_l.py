"""UpdateFirmware (L01) and GetLog (N01) of a 2.0.1 session, routed to the `Host`: a mixin,
as `routes_k` is; the upload starts once the answer with the file name is sent."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from controller.ocpp201.ports import Host


class MaintenanceRoutes:
    _host: Host

    @on(Action.update_firmware)
    def on_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> call_result.UpdateFirmware:
        status = self._host.update_firmware(request_id, firmware, retries, retry_interval)
        return call_result.UpdateFirmware(status=status)

    @on(Action.get_log)
    def on_get_log(
        self,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> call_result.GetLog:
        status, filename = self._host.get_log(request_id, log_type, log, retries, retry_interval)
        return call_result.GetLog(status=status, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, request_id: int, **_: Any) -> None:
        self._host.upload_log_later(request_id)
