"""UpdateFirmware (L01) and GetLog (N01) in 2.0.1, on the machinery 1.6 already uses: the
`Maintenance` the app builds (`controller.ocpp.firmware_handlers.maintenance_for`) holds the
protocol-free firmware updater and diagnostics uploader, and reports their statuses through
the service's `enqueue_notification`. Here the 2.0.1 requests are read, and the reports are
given 2.0.1's words and the CSMS's requestId before they are queued.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from controller.diagnostics.uploader import DiagnosticsRequest
from controller.firmware import transfer
from controller.firmware.model import UpdateRequest
from controller.ocpp201.context import Context
from controller.ocpp201.password import STORE_KEY
from controller.timestamps import parse_time

log = logging.getLogger(__name__)

FIRMWARE_REQUEST_KEY = "_firmware_request_id"  # kept: Installed is reported after a restart
LOG_STATUS = {"Uploading": "Uploading", "Uploaded": "Uploaded", "UploadFailed": "UploadFailure"}


class KeysView:
    """What the diagnostics tarball reads of the configuration keys, from the device model:
    no AuthorizationKey exists in 2.0.1, the variables are listed instead."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, key: str) -> str | None:
        """1.6's secret key's counterpart, so that the tarball scrubs it: the password the
        CSMS set (A01)."""
        return self._ctx.db.config_items().get(STORE_KEY) if key == "AuthorizationKey" else None

    def listing(self, keys: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
        return self._ctx.variables.report_data("FullInventory") or [], []


class Maintenance201:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._log_request_id: int | None = None
        self._pending_logs: dict[int, DiagnosticsRequest] = {}

    def translate(self, action: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A 1.6-worded status report as the 2.0.1 message to queue."""
        if action == "DiagnosticsStatusNotification":
            status = LOG_STATUS.get(str(payload.get("status")), "Idle")
            return "LogStatusNotification", {"status": status, "request_id": self._log_request_id}
        if action == "FirmwareStatusNotification":
            stored = self._ctx.db.config_items().get(FIRMWARE_REQUEST_KEY)
            return action, {**payload, "request_id": int(stored) if stored else None}
        return action, payload

    def update_firmware(
        self, request_id: int, firmware: dict[str, Any], retries: int | None, interval: int | None
    ) -> str:
        m = self._ctx.maintenance
        if m is None:
            return "Rejected"
        retrieve_at = parse_time(firmware.get("retrieve_date_time")) or self._ctx.now()
        req = UpdateRequest.of(str(firmware.get("location")), retrieve_at, retries, interval)
        if not m.firmware.accept(req):
            return "Rejected"  # an update is under way
        self._ctx.db.set_config(FIRMWARE_REQUEST_KEY, str(request_id))
        log.info("UpdateFirmware %d from %s", request_id, transfer.shown_url(req.location))
        self._ctx.spawn(m.firmware.run(), "firmware-update")
        return "Accepted"

    def get_log(
        self,
        request_id: int,
        log_type: str,
        location: dict[str, Any],
        retries: int | None,
        interval: int | None,
    ) -> tuple[str, str | None]:
        """(status, filename); the upload starts once the answer is sent (`upload_log_later`)."""
        m = self._ctx.maintenance
        where = str(location.get("remote_location", ""))
        scheme = urllib.parse.urlsplit(where).scheme.lower()
        if m is None or log_type != "DiagnosticsLog" or scheme not in transfer.UPLOAD_SCHEMES:
            return "Rejected", None
        req = DiagnosticsRequest.of(
            where,
            parse_time(location.get("oldest_timestamp")),
            parse_time(location.get("latest_timestamp")),
            retries,
            interval,
            self._ctx.now(),
        )
        self._pending_logs[request_id] = req
        return "Accepted", m.diagnostics.file_name(req)

    def upload_log_later(self, request_id: int) -> None:
        req = self._pending_logs.pop(request_id, None)
        m = self._ctx.maintenance
        if req is not None and m is not None:
            self._log_request_id = request_id
            self._ctx.spawn(m.diagnostics.run(req), "log-upload")
