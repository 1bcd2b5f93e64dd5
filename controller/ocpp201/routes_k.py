"""The smart-charging (K) requests of a 2.0.1 session, routed to the `Host`: a mixin, so the
session's file stays one job. The library finds the routes on any class of the session."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from controller.ocpp201.ports import Host


class SmartChargingRoutes:
    _host: Host

    # --- K: smart charging ----------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        status, info = self._host.set_charging_profile(evse_id, charging_profile)
        return call_result.SetChargingProfile(status=status, status_info=info)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        status = self._host.clear_charging_profile(charging_profile_id, charging_profile_criteria)
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self._host.composite_schedule(evse_id, int(duration), charging_rate_unit)
        if schedule is None:
            info = {"reason_code": "UnknownEVSE", "additional_info": f"no EVSE {evse_id}"}
            return call_result.GetCompositeSchedule(status="Rejected", status_info=info)
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.GetChargingProfiles:
        status = self._host.charging_profiles(request_id, evse_id, charging_profile)
        return call_result.GetChargingProfiles(status=status)

    @after(Action.get_charging_profiles)
    def after_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> None:
        self._host.report_profiles_later(request_id, evse_id, charging_profile)
