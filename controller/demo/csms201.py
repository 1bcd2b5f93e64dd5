"""The demo's CSMS in OCPP 2.0.1: the same server and recording (`csms_core`), a 2.0.1 central
side on the `ocpp` library's `ocpp.v201` (subprotocol ocpp2.0.1). It answers what a charging
station sends and records every message; the station assigns the transaction ids."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from controller.demo.csms_core import CsmsServer, RecordingCentral, now_iso


class _CentralSide201(RecordingCentral, ChargePoint):  # type: ignore[misc]
    results = call_result

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=now_iso(), interval=300, status="Accepted")

    @on(Action.transaction_event)
    def on_transaction_event(self, **kw: Any) -> call_result.TransactionEvent:
        self._record("TransactionEvent", kw)
        return call_result.TransactionEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **kw: Any) -> call_result.NotifyReport:
        self._record("NotifyReport", kw)
        return call_result.NotifyReport()


def demo_csms_201() -> CsmsServer:
    return CsmsServer(_CentralSide201, "ocpp2.0.1")
