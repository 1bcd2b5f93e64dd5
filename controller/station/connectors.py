"""Per-connector state besides transactions: availability, finishing, authorization.

Availability and "finishing" (a session stopped with the car still plugged in) survive a
restart through a small key-value store; an authorization is short-lived and kept in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from controller.station.events import EventKind, Events, StationEvent
from controller.station.model import Authorization


class StartGate(Protocol):
    """Consulted before a transaction starts on an authorization: a local authorization list,
    a reservation held for another idTag, a main-fuse guard. Any gate saying no holds the
    start; the authorization stays until it expires, so a later yes still starts it."""

    def may_start(self, connector_id: int, auth: Authorization) -> bool: ...


class KeyValueStore(Protocol):
    def config_items(self) -> dict[str, str]: ...

    def set_config(self, key: str, value: str) -> None: ...


class ConnectorStates:
    def __init__(self, connector_ids: Sequence[int], store: KeyValueStore, events: Events) -> None:
        self._store = store
        self._events = events
        stored = store.config_items()
        self._finishing: set[int] = {
            cid for cid in connector_ids if stored.get(f"_finishing.{cid}") in ("true", "timeout")
        }
        # Finishing because no authorization came in time, not because a session ended.
        self._timed_out: set[int] = {
            cid for cid in connector_ids if stored.get(f"_finishing.{cid}") == "timeout"
        }
        self._operative: dict[int, bool] = {
            cid: stored.get(f"_available.{cid}", "true") == "true" for cid in connector_ids
        }
        self._scheduled: dict[int, bool] = {}
        self._auth: dict[int, Authorization] = {}
        self._gates: list[StartGate] = []

    # --- availability -----------------------------------------------------------------------

    def operative(self, connector_id: int) -> bool:
        return self._operative.get(connector_id, True)

    def any_operative(self) -> bool:
        return any(self._operative.values())

    def set_operative(self, connector_id: int, operative: bool) -> None:
        self._operative[connector_id] = operative
        self._store.set_config(f"_available.{connector_id}", "true" if operative else "false")
        self._events.emit(StationEvent(EventKind.AVAILABILITY_CHANGED, connector_id))

    def schedule(self, connector_id: int, operative: bool | None) -> None:
        """An availability change waiting for the running transaction to end (None: none)."""
        if operative is None:
            self._scheduled.pop(connector_id, None)
        else:
            self._scheduled[connector_id] = operative

    def scheduled(self, connector_id: int) -> bool:
        return connector_id in self._scheduled

    def take_scheduled(self, connector_id: int) -> bool | None:
        return self._scheduled.pop(connector_id, None)

    # --- finishing --------------------------------------------------------------------------

    def finishing(self, connector_id: int) -> bool:
        return connector_id in self._finishing

    def set_finishing(self, connector_id: int, finishing: bool, *, timed_out: bool = False) -> None:
        """`timed_out`: no authorization came within ConnectionTimeOut after the car was
        plugged in (no session ended here), which a later authorization may undo."""
        if finishing == (connector_id in self._finishing) and timed_out == (
            connector_id in self._timed_out
        ):
            return
        if finishing:
            self._finishing.add(connector_id)
        else:
            self._finishing.discard(connector_id)
        if finishing and timed_out:
            self._timed_out.add(connector_id)
        else:
            self._timed_out.discard(connector_id)
        value = ("timeout" if timed_out else "true") if finishing else "false"
        self._store.set_config(f"_finishing.{connector_id}", value)

    def resume_after_timeout(self, connector_id: int) -> bool:
        """A new authorization for a car that waited past ConnectionTimeOut: the car is still
        there (the pilot says so; a cable alone reads as A), so it may start after all."""
        if connector_id not in self._timed_out:
            return False
        self.set_finishing(connector_id, False)
        return True

    # --- authorization ----------------------------------------------------------------------

    def authorize(self, connector_id: int, auth: Authorization) -> None:
        self._auth[connector_id] = auth

    def authorized(self, connector_id: int) -> bool:
        return connector_id in self._auth

    def authorization(self, connector_id: int, now_mono: float) -> Authorization | None:
        """The connector's authorization, if it has not expired."""
        auth = self._auth.get(connector_id)
        if auth is not None and auth.expires_mono < now_mono:
            del self._auth[connector_id]
            return None
        return auth

    def expire(self, now_mono: float) -> list[int]:
        """Drop every authorization whose time is up and tell the listeners, so a connector
        waiting for a car that never came goes back to Available (OCPP 1.6 ConnectionTimeOut)
        without anyone having to ask. The caller passes the time: a timer set when the
        authorization was given."""
        expired = [cid for cid, a in self._auth.items() if a.expires_mono <= now_mono]
        for cid in expired:
            del self._auth[cid]
            self._events.emit(StationEvent(EventKind.AUTHORIZATION_EXPIRED, cid))
        return expired

    def add_gate(self, gate: StartGate) -> None:
        self._gates.append(gate)

    def admits(self, connector_id: int, auth: Authorization) -> bool:
        return all(gate.may_start(connector_id, auth) for gate in self._gates)

    def consume(self, connector_id: int) -> None:
        self._auth.pop(connector_id, None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "operative": dict(self._operative),
            "finishing": sorted(self._finishing),
            "scheduled": dict(self._scheduled),
        }
