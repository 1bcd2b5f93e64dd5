"""A small CSMS on the `ocpp` library's central-system side, for `chargectl demo`.

It accepts any charge point, answers what a charge point sends (boot, heartbeat, status,
authorisation, transactions, meter values) and records every message, so the demo can drive the
story with CSMS-initiated calls and show what the charger reported back. It is a real OCPP peer
over a real websocket on 127.0.0.1, not a shortcut into the charger's internals.

The server, the recording and the answers both versions give alike are in
`controller.demo.csms_core`; here is what 1.6 answers its own way (boot, authorisation,
transactions whose ids the CSMS assigns, data transfer).
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)

from controller.demo.csms_core import CsmsServer, RecordingCentral, now_iso

log = logging.getLogger(__name__)


class _CentralSide(RecordingCentral, ChargePoint):  # type: ignore[misc]
    """One connected 1.6 charge point: the answers only 1.6 has, or gives its own way."""

    results = call_result

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> call_result.BootNotification:
        status = (
            self._registry.boot_statuses.pop(0)
            if self._registry.boot_statuses
            else RegistrationStatus.accepted
        )
        interval = 300 if status == RegistrationStatus.accepted else 1
        return call_result.BootNotification(
            current_time=now_iso(), interval=interval, status=status
        )

    @on(Action.authorize)
    def on_authorize(self, **kw: Any) -> call_result.Authorize:
        self._record("Authorize", kw)
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start(self, **kw: Any) -> call_result.StartTransaction:
        tx_id = next(self._registry.transaction_ids)
        self._record("StartTransaction", {**kw, "_assigned_transaction_id": tx_id})
        return call_result.StartTransaction(
            transaction_id=tx_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **kw: Any) -> call_result.StopTransaction:
        self._record("StopTransaction", kw)
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.data_transfer)
    def on_data_transfer(self, **kw: Any) -> call_result.DataTransfer:
        self._record("DataTransfer", kw)
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)


class DemoCsms(CsmsServer):
    """The demo CSMS in 1.6 (`csms201.demo_csms_201` for 2.0.1); see `CsmsServer`."""

    def __init__(self, central: Any = _CentralSide, subprotocol: str = "ocpp1.6") -> None:
        super().__init__(central, subprotocol)
