"""One websocket session with a 2.0.1 CSMS, on the `ocpp` library's `ocpp.v201` side.

Like the 1.6 session (`controller.ocpp.session`) it only translates: every frame is screened
first by the protocol-free `controller.csms_session` (a malformed CALL gets a CALLERROR and
the link stays up), the CSMS's answers to our calls are checked against the 2.0.1 schemas,
nothing leaves before what it promises is on disk, and the decisions are the `Host`'s.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import CallResult, _validate_payload
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from controller.csms_session import ScreeningSession
from controller.ocpp.frames import FrameKind, call_error
from controller.ocpp201.ports import Host
from controller.ocpp201.routes_c import AuthorizationRoutes
from controller.ocpp201.routes_k import SmartChargingRoutes
from controller.ocpp201.routes_l import MaintenanceRoutes


class Session201(
    AuthorizationRoutes,
    SmartChargingRoutes,
    MaintenanceRoutes,
    ScreeningSession[Host],
    ChargePoint,  # type: ignore[misc]
):
    async def route_message(self, raw_msg: str) -> None:
        """Screen every frame first (`ScreeningSession`); a CALLRESULT is checked against the
        2.0.1 schema before the library sees it."""
        s = await self._screened(raw_msg)
        if s is None:
            return
        if s.kind is FrameKind.CALLRESULT and s.parsed is not None and len(s.parsed) == 3:
            action = self._awaiting.get(s.message_id)
            try:
                if action is not None and isinstance(s.parsed[2], dict):
                    _validate_payload(CallResult(s.message_id, s.parsed[2], action), "2.0.1")
            except OCPPError as exc:
                self._invalid_responses[s.message_id] = exc
                raw_msg = call_error(s.message_id, "FormatViolation", str(exc.description))
        await super().route_message(raw_msg)

    def _refusal(self, message_id: str, error_text: str) -> str:
        return call_error(message_id, "FormatViolation", error_text)

    # --- F: remote control ----------------------------------------------------------------

    @on(Action.request_start_transaction)
    def on_request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        status, info = self._host.request_start(
            id_token, remote_start_id, evse_id, charging_profile
        )
        return call_result.RequestStartTransaction(status=status, status_info=info)

    @on(Action.request_stop_transaction)
    def on_request_stop(self, transaction_id: str, **_: Any) -> call_result.RequestStopTransaction:
        status, info = self._host.request_stop(transaction_id)
        return call_result.RequestStopTransaction(status=status, status_info=info)

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        if evse_id is not None:
            info = {"reason_code": "UnsupportedParam", "additional_info": "no per-EVSE reset"}
            return call_result.Reset(status="Rejected", status_info=info)
        return call_result.Reset(status=self._host.reset_status(type))

    @after(Action.reset)
    def after_reset(self, type: str, evse_id: int | None = None, **_: Any) -> None:
        if evse_id is None:
            self._host.reset_later(type)

    # --- B: provisioning ------------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        results = self._host.get_variables(get_variable_data)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = self._host.set_variables(set_variable_data)
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.get_base_report)
    def on_get_base_report(
        self, request_id: int, report_base: str, **_: Any
    ) -> call_result.GetBaseReport:
        return call_result.GetBaseReport(status=self._host.base_report(request_id, report_base))

    @after(Action.get_base_report)
    def after_get_base_report(self, request_id: int, report_base: str, **_: Any) -> None:
        self._host.report_later(request_id, report_base)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")

    # --- E: transactions ------------------------------------------------------------------

    @on(Action.get_transaction_status)
    def on_transaction_status(
        self, transaction_id: str | None = None, **_: Any
    ) -> call_result.GetTransactionStatus:
        queued, ongoing = self._host.transaction_status(transaction_id)
        return call_result.GetTransactionStatus(messages_in_queue=queued, ongoing_indicator=ongoing)

    # --- G: availability, F: trigger and unlock -------------------------------------------

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        evse_id = None if evse is None else int(evse["id"])
        status = self._host.change_availability(evse_id, operational_status == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        evse_id = None if evse is None else int(evse["id"])
        return call_result.TriggerMessage(
            status=self._host.trigger_status(requested_message, evse_id)
        )

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> None:
        evse_id = None if evse is None else int(evse["id"])
        self._host.trigger_later(requested_message, evse_id)

    @on(Action.unlock_connector)
    def on_unlock(self, evse_id: int, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=self._host.unlock(evse_id, connector_id))
