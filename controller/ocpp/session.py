"""One websocket session with the CSMS, on the `ocpp` library's charge-point side.

The handlers only translate: OCPP payloads in, a call into the service, an OCPP answer out.
They never block the receive loop (no outgoing CALL from inside a handler); whatever must follow
an answer (the message a TriggerMessage asks for, a reset) runs from `@after`, through the
service's supervised tasks.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from controller.ocpp.transactions import storable_id

if TYPE_CHECKING:
    from controller.ocpp.service import ChargePointService

log = logging.getLogger(__name__)

_ERRORS: dict[str, type[OCPPError]] = {
    "FormatViolation": FormatViolationError,
    "PropertyConstraintViolation": PropertyConstraintViolationError,
    "ProtocolError": ProtocolError,
}


class Session(ChargePoint):  # type: ignore[misc]
    def __init__(self, service: ChargePointService, connection: Any, timeout_s: float) -> None:
        super().__init__(service.settings.charge_point_id, connection, response_timeout=timeout_s)
        self._svc = service

    async def route_message(self, raw_msg: str) -> None:
        """Answer frames the library cannot parse with a CALLERROR instead of dropping them."""
        try:
            parsed = json.loads(raw_msg)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
            await self._reject_frame("-1", "FormatViolation", "frame is not valid JSON")
            return
        if (
            not isinstance(parsed, list)
            or len(parsed) < 3
            or parsed[0] not in (2, 3, 4)
            or not isinstance(parsed[1], str)
            or (parsed[0] == 2 and (len(parsed) != 4 or not isinstance(parsed[2], str)))
        ):
            msg_id = parsed[1] if isinstance(parsed, list) and len(parsed) > 1 else "-1"
            if not isinstance(msg_id, str):
                msg_id = "-1"
            await self._reject_frame(msg_id, "ProtocolError", "not an OCPP-J message")
            return
        if parsed[0] == 2 and not isinstance(parsed[3], dict):
            await self._reject_frame(parsed[1], "FormatViolation", "payload must be an object")
            return
        self._svc.frames_received += 1
        await super().route_message(raw_msg)

    async def _reject_frame(self, msg_id: str, code: str, description: str) -> None:
        log.warning("malformed frame from the CSMS answered with %s: %s", code, description)
        self._svc.frames_rejected += 1
        await self._send(json.dumps([4, msg_id, code, description, {}]))

    # --- Core -----------------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        if charging_profile is not None and not _profile_ids_storable(charging_profile):
            return call_result.RemoteStartTransaction(status="Rejected")
        status = self._svc.remote_start(id_tag, connector_id, charging_profile)
        return call_result.RemoteStartTransaction(status=status)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        if not storable_id(transaction_id):
            return call_result.RemoteStopTransaction(status="Rejected")  # no such id can exist
        return call_result.RemoteStopTransaction(status=self._svc.remote_stop(transaction_id))

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(
            status=self._svc.change_availability(connector_id, type)
        )

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self._svc.change_configuration(key, value))

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        known, unknown = self._svc.keys.listing(key)
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        return call_result.ClearCache(status="Accepted")  # no authorisation cache is kept

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self._svc.spawn(self._svc.do_reset(type), "reset")

    @on(Action.unlock_connector)
    async def on_unlock(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=await self._svc.unlock(connector_id))

    # --- Smart Charging -------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        _check_profile_ids(cs_charging_profiles)
        result = self._svc.set_charging_profile(connector_id, cs_charging_profiles)
        if result.call_error:
            raise _ERRORS.get(result.call_error, PropertyConstraintViolationError)(
                description=result.reason
            )
        return call_result.SetChargingProfile(status=result.status)

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
            return call_result.ClearChargingProfile(status="Unknown")
        status = self._svc.profiles.clear_charging_profile(
            profile_id=id,
            connector_id=connector_id,
            purpose=charging_profile_purpose,
            stack_level=stack_level,
        )
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        now = self._svc.now()
        schedule = self._svc.profiles.composite_schedule(
            connector_id, now, int(duration), charging_rate_unit
        )
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
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
            status=self._svc.trigger_status(requested_message, connector_id)
        )

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if self._svc.trigger_status(requested_message, connector_id) == "Accepted":
            self._svc.spawn(self._svc.send_triggered(requested_message, connector_id), "trigger")


def _profile_ids_storable(profile: dict[str, Any]) -> bool:
    return all(
        profile.get(key) is None or storable_id(profile.get(key))
        for key in ("charging_profile_id", "transaction_id")
    )


def _check_profile_ids(profile: dict[str, Any]) -> None:
    """An id the store cannot hold is the CSMS's error, answered as such, never a crash."""
    if not _profile_ids_storable(profile):
        raise PropertyConstraintViolationError(
            description="chargingProfileId or transactionId outside the signed 64-bit range"
        )
