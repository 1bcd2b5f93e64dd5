"""One websocket session with the CSMS, on the `ocpp` library's charge-point side.

The handlers only translate: OCPP payloads in, a call into the `SessionHost`, an OCPP answer
out; the session knows nothing else of the charge point.
They never block the receive loop (no outgoing CALL from inside a handler); whatever must follow
an answer (the message a TriggerMessage asks for, a reset) runs from `@after`, through the
host's supervised tasks.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import (
    Action,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    RemoteStartStopStatus,
    ResetStatus,
)

from controller.csms_session import ScreeningSession
from controller.ocpp.auth_handlers import register as register_auth
from controller.ocpp.call_gate import gate
from controller.ocpp.firmware_handlers import register as register_maintenance
from controller.ocpp.frames import FrameKind, Screened, call_error
from controller.ocpp.ports import Connection, SessionHost
from controller.ocpp.responses import check_response
from controller.ocpp.transactions import check_profile_ids, profile_ids_storable, storable_id

log = logging.getLogger(__name__)

_ERRORS: dict[str, type[OCPPError]] = {
    "FormatViolation": FormatViolationError,
    "PropertyConstraintViolation": PropertyConstraintViolationError,
    "ProtocolError": ProtocolError,
}


class Session(ScreeningSession[SessionHost], ChargePoint):  # type: ignore[misc]
    def __init__(
        self, host: SessionHost, charge_point_id: str, connection: Connection, timeout_s: float
    ) -> None:
        super().__init__(host, charge_point_id, connection, timeout_s)
        register_maintenance(self, host.maintenance)
        register_auth(self, host.auth)

    async def route_message(self, raw_msg: str) -> None:
        """Screen every frame first (`ScreeningSession`); a CALLRESULT is checked against its
        schema before the library sees it."""
        screened = await self._screened(raw_msg)
        if screened is None:
            return
        if screened.kind is FrameKind.CALLRESULT and screened.parsed is not None:
            checked = self._check_response(screened.message_id, screened.parsed)
            if checked is not screened.parsed:
                raw_msg = json.dumps(checked)
        await super().route_message(raw_msg)

    def _refusal(self, message_id: str, error_text: str) -> str:
        log.warning("refused the CSMS's answer: %s", error_text)
        return call_error(message_id, "FormationViolation", "")  # 1.6's spelling

    async def _admitted(self, screened: Screened) -> bool:
        return await gate(screened, self._host, self)  # the boot gate and the feature profiles

    def _check_response(self, message_id: str, parsed: list[Any]) -> list[Any]:
        """The CSMS's CALLRESULT checked against its schema (`responses.check`); an invalid
        one becomes a CALLERROR for the library and its error is raised from `call`."""
        action = self._awaiting.get(message_id)
        checked, error = check_response(action, message_id, parsed)
        if error is not None:
            self._invalid_responses[message_id] = error
        elif action == "BootNotification" and isinstance(status := checked[2], dict):
            # The boot's status holds from the moment its answer arrives: a CSMS may send its
            # first request right behind the answer, before the boot task resumes.
            self._host.boot_answered(str(status.get("status")))
        return checked

    # --- Core -----------------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        if charging_profile is not None and not profile_ids_storable(charging_profile):
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        status = self._host.remote_start(id_tag, connector_id, charging_profile)
        return call_result.RemoteStartTransaction(status=status)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        if not storable_id(transaction_id):
            # No such id can exist.
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
        return call_result.RemoteStopTransaction(status=self._host.remote_stop(transaction_id))

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(
            status=self._host.change_availability(connector_id, type)
        )

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self._host.change_configuration(key, value))

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        known, unknown = self._host.configuration(key)
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status=ResetStatus.accepted)

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self._host.reset_later(type)

    @on(Action.unlock_connector)
    async def on_unlock(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=await self._host.unlock(connector_id))

    # --- Smart Charging -------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        check_profile_ids(cs_charging_profiles)
        result = self._host.set_charging_profile(connector_id, cs_charging_profiles)
        if result.call_error:
            raise _ERRORS.get(result.call_error, PropertyConstraintViolationError)(
                description=result.reason
            )
        return call_result.SetChargingProfile(status=ChargingProfileStatus(result.status))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        if id is not None and not storable_id(id):
            return call_result.ClearChargingProfile(status=ClearChargingProfileStatus.unknown)
        status = self._host.clear_charging_profile(
            id, connector_id, charging_profile_purpose, stack_level
        )
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self._host.composite_schedule(connector_id, int(duration), charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.rejected)
        return call_result.GetCompositeSchedule(
            status=GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=schedule["startSchedule"],
            charging_schedule=schedule,
        )

    # --- Remote Trigger -------------------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(
            status=self._host.trigger_status(requested_message, connector_id)
        )

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        self._host.trigger_later(requested_message, connector_id)
