"""The central system's requests of OCPP 1.6's Local Auth List Management and Reservation
profiles, and ClearCache: a thin layer over `auth_flow.LocalAuth` and `reserving`.

`register` adds them to a Session's routes, as `firmware_handlers` does for its profile, so the
session itself only gains one line.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import (
    Action,
    CancelReservationStatus,
    ClearCacheStatus,
    ReservationStatus,
    UpdateStatus,
)

from controller.ocpp.auth_flow import LocalAuth
from controller.ocpp.ports import RoutesPort
from controller.ocpp.reserving import ReservationFlow
from controller.ocpp.transactions import storable_id
from controller.timestamps import parse_time

log = logging.getLogger(__name__)


class _Routed(Protocol):
    route_map: dict[Any, dict[str, Any]]


class AuthHandlers:
    def __init__(self, auth: LocalAuth, reserving: ReservationFlow) -> None:
        self._auth = auth
        self._reserving = reserving

    def routes(self) -> dict[str, dict[str, Any]]:
        return {
            Action.clear_cache: {"_on_action": self.on_clear_cache},
            Action.send_local_list: {"_on_action": self.on_send_local_list},
            Action.get_local_list_version: {"_on_action": self.on_get_local_list_version},
            Action.reserve_now: {"_on_action": self.on_reserve_now},
            Action.cancel_reservation: {"_on_action": self.on_cancel_reservation},
        }

    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        self._auth.clear_cache()
        return call_result.ClearCache(status=ClearCacheStatus.accepted)

    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        if not storable_id(list_version):
            return call_result.SendLocalList(status=UpdateStatus.failed)
        status = self._auth.send_local_list(
            list_version, update_type, local_authorization_list or []
        )
        return call_result.SendLocalList(status=UpdateStatus(status.value))

    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self._auth.list_version())

    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        expiry = parse_time(expiry_date)
        if expiry is None or not storable_id(reservation_id) or not storable_id(connector_id):
            log.warning("ReserveNow %r refused: bad expiryDate or id", reservation_id)
            return call_result.ReserveNow(status=ReservationStatus.rejected)
        status = self._reserving.reserve(
            connector_id, expiry, id_tag, parent_id_tag, reservation_id
        )
        return call_result.ReserveNow(status=ReservationStatus(status.value))

    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        if storable_id(reservation_id) and self._reserving.cancel(reservation_id):
            return call_result.CancelReservation(status=CancelReservationStatus.accepted)
        return call_result.CancelReservation(status=CancelReservationStatus.rejected)


def register(session: _Routed, handlers: RoutesPort | None) -> None:
    """Route ClearCache, SendLocalList, GetLocalListVersion, ReserveNow and CancelReservation."""
    if handlers is not None:
        session.route_map.update(handlers.routes())
