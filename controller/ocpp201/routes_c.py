"""ClearCache (C11), SendLocalList (D01), GetLocalListVersion (D02), ReserveNow (H01) and
CancelReservation (H02) of a 2.0.1 session, and what follows a SetVariables answer (a new
password's reconnect, A01), routed to the `Host`: a mixin, as `routes_k` is."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from controller.ocpp201.ports import Host


class AuthorizationRoutes:
    _host: Host

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        return call_result.ClearCache(status=self._host.clear_cache())

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        status, info = self._host.send_local_list(
            version_number, update_type, local_authorization_list or []
        )
        return call_result.SendLocalList(status=status, status_info=info)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self._host.local_list_version())

    @after(Action.set_variables)
    def after_set_variables(self, **_: Any) -> None:
        self._host.after_set_variables()

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        group_id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        status, info = self._host.reserve_now(
            id, expiry_date_time, id_token, evse_id, group_id_token
        )
        return call_result.ReserveNow(status=status, status_info=info)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        return call_result.CancelReservation(status=self._host.cancel_reservation(reservation_id))
