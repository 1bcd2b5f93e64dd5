"""The demo's CSMS in OCPP 2.0.1: the same `DemoCsms` server and recording, a 2.0.1 central
side on the `ocpp` library's `ocpp.v201` (subprotocol ocpp2.0.1). It answers what a charging
station sends and records every message; the station assigns the transaction ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from controller.demo.csms import DemoCsms, Received, _now_iso, _Registry


class _CentralSide201(ChargePoint):  # type: ignore[misc]
    def __init__(self, cs_id: str, connection: Any, registry: _Registry) -> None:
        super().__init__(cs_id, connection, response_timeout=30)
        self._registry = registry

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self._registry.add(Received(datetime.now(UTC), self.id, action, payload))

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now_iso(), interval=300, status="Accepted"
        )

    @after(Action.boot_notification)
    def after_boot(self, **kw: Any) -> None:
        # Recorded once the answer is on the wire: whoever waits for the boot and then calls
        # the charger is behind the answer, as a CSMS is (the charger reads frames in order).
        self._record("BootNotification", kw)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw: Any) -> call_result.Heartbeat:
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=_now_iso())

    @on(Action.status_notification)
    def on_status(self, **kw: Any) -> call_result.StatusNotification:
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on(Action.transaction_event)
    def on_transaction_event(self, **kw: Any) -> call_result.TransactionEvent:
        self._record("TransactionEvent", kw)
        return call_result.TransactionEvent()

    @on(Action.meter_values)
    def on_meter_values(self, **kw: Any) -> call_result.MeterValues:
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on(Action.notify_report)
    def on_notify_report(self, **kw: Any) -> call_result.NotifyReport:
        self._record("NotifyReport", kw)
        return call_result.NotifyReport()

    @on(Action.security_event_notification)
    def on_security_event(self, **kw: Any) -> call_result.SecurityEventNotification:
        self._record("SecurityEventNotification", kw)
        return call_result.SecurityEventNotification()


def demo_csms_201() -> DemoCsms:
    return DemoCsms(_CentralSide201, "ocpp2.0.1")
