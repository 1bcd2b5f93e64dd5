"""Reservations through the OCPP adapter, in memory on a fake clock: Reserved, the reserved card
only, reservationId in StartTransaction, replace, cancel, expiry, connector 0, the answers for a
busy, faulted or unavailable connector, and a reservation and the local list after a restart."""

from dataclasses import dataclass, field, replace
from datetime import timedelta

from ocpp_unit_rig import FakeHardware, booted, rig, settle, until

from controller.ocpp.core import utc_iso
from controller.station import ConnectorSnapshot
from controller.status import render
from hw.base import CpState, Fault, FaultKind


def _calls(r, action):
    return [p for a, p, _ in r.csms.calls if a == action]


def _statuses(r):
    return [p["status"] for p in _calls(r, "StatusNotification") if p["connectorId"] == 1]


def _reserve(r, rid, tag, connector=1, minutes=10, parent=None):
    expiry = utc_iso(r.service.now() + timedelta(minutes=minutes))
    routes = r.service.handlers.auth_routes
    return routes.on_reserve_now(connector, expiry, tag, rid, parent).status


def _plug(r, state=CpState.B):
    r.hardware.cp_state = state
    r.service.connector_changed(1)


async def test_a_reserved_connector_takes_only_its_card_and_the_start_carries_the_id(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _reserve(r, 11, "OWNER") == "Accepted"
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        assert r.service.auth_status(1)["reservation"]["reservation_id"] == 11
        shown = render({"connectors": [{"id": 1, **r.service.auth_status(1)}]})
        assert "reserved for OWNER until 2024-05-01T10:10:00.000Z (reservation 11)" in shown
        assert _reserve(r, 12, "OTHER") == "Occupied"
        assert _reserve(r, 11, "OWNER2") == "Accepted"  # the same id replaces it
        assert r.service.core.reservations.get(11).id_tag == "OWNER2"
        _plug(r)
        assert not await r.service.present_id_tag(1, "STRANGER")
        assert r.service.handlers.remote_start("STRANGER", 1, None) == "Rejected"
        assert await r.service.present_id_tag(1, "owner2")
        await until(lambda: len(_calls(r, "StartTransaction")) == 1 and not r.service.db.pending())
        assert _calls(r, "StartTransaction")[0]["reservationId"] == 11
        assert r.service.core.reservations.all() == []
        assert r.service.auth_status(1)["reservation"] is None


async def test_cancel_and_expiry_make_the_connector_available_again(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        routes = r.service.handlers.auth_routes
        assert _reserve(r, 1, "A") == "Accepted"
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        assert routes.on_cancel_reservation(1).status == "Accepted"
        assert routes.on_cancel_reservation(1).status == "Rejected"
        await until(lambda: _statuses(r)[-1:] == ["Available"])
        assert _reserve(r, 2, "A", minutes=5) == "Accepted"
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        await r.timers.advance(299)
        assert _statuses(r)[-1] == "Reserved"
        await r.timers.advance(2)
        await until(lambda: _statuses(r)[-1:] == ["Available"])
        assert r.service.core.reservations.all() == []
        assert _reserve(r, 3, "A", minutes=0) == "Rejected"  # already expired


async def test_answers_for_busy_faulted_and_unavailable_connectors(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _reserve(r, 1, "A", connector=2) == "Rejected"  # no such connector
        _plug(r)
        assert _reserve(r, 1, "A") == "Occupied"
        _plug(r, CpState.A)
        r.service.handlers.change_availability(1, "Inoperative")
        assert _reserve(r, 1, "A") == "Unavailable"
        r.service.handlers.change_availability(1, "Operative")
        r.hardware.fault = Fault(FaultKind.BOARD, "board gone")
        r.service.connector_changed(1)
        assert _reserve(r, 1, "A") == "Faulted"
        r.hardware.fault = None
        r.service.connector_changed(1)
        assert _reserve(r, 1, "A") == "Accepted"
        r.hardware.fault = Fault(FaultKind.BOARD, "board gone")
        r.service.connector_changed(1)  # a fault ends the reservation
        assert r.service.core.reservations.all() == []


async def test_connector_zero_keeps_the_only_connector_for_its_card(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _reserve(r, 5, "ZERO", connector=0) == "Accepted"
        assert _reserve(r, 6, "ZERO2", connector=0) == "Occupied"
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])  # the only free connector
        _plug(r)
        assert not await r.service.present_id_tag(1, "STRANGER")
        assert r.service.handlers.remote_start("STRANGER", 1, None) == "Rejected"
        assert await r.service.present_id_tag(1, "ZERO")
        await until(lambda: len(_calls(r, "StartTransaction")) == 1 and not r.service.db.pending())
        assert _calls(r, "StartTransaction")[0]["reservationId"] == 5
        assert r.service.core.reservations.all() == []


async def test_reservation_and_local_list_survive_a_restart(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _reserve(r, 9, "KEEP", minutes=30, parent="GROUP") == "Accepted"
        routes = r.service.handlers.auth_routes
        entries = [{"id_tag": "L1", "id_tag_info": {"status": "Accepted"}}]
        assert routes.on_send_local_list(4, "Full", entries).status == "Accepted"
        assert routes.on_send_local_list(4, "Differential", []).status == "VersionMismatch"
        assert (await r.service.auth.authorize("CACHED")).accepted  # Authorize: cached
    async with rig(tmp_path) as r:
        await booted(r)
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        held = r.service.core.reservations.get(9)
        assert held is not None and held.parent_id_tag == "GROUP"
        assert r.service.handlers.auth_routes.on_get_local_list_version().list_version == 4
        assert r.service.auth.listed("l1") is not None
        cached = r.service.auth.cache.get("cached", r.service.now())
        assert cached is not None and cached.status == "Accepted"


async def test_a_remote_start_without_connector_skips_a_connector_reserved_for_another(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _reserve(r, 3, "OWNER") == "Accepted"
        assert r.service.handlers.remote_start("STRANGER", None, None) == "Rejected"
        assert r.service.handlers.remote_start("OWNER", None, None) == "Accepted"


@dataclass
class TwoConnectors(FakeHardware):
    """Two connectors; `plugged` says where a car is in."""

    plugged: set[int] = field(default_factory=set)

    @property
    def connector_ids(self) -> list[int]:
        return [1, 2]

    def snapshot(self, connector_id: int) -> ConnectorSnapshot:
        shot = super().snapshot(connector_id)
        state = CpState.B if connector_id in self.plugged else CpState.A
        return replace(shot, status=replace(shot.status, cp_state=state))


async def test_a_connector_zero_reservation_moves_reserved_to_the_last_free_connector(tmp_path):
    hardware = TwoConnectors()
    async with rig(tmp_path, hardware=hardware) as r:
        await booted(r)

        def last(cid):
            shown = [
                p["status"] for p in _calls(r, "StatusNotification") if p["connectorId"] == cid
            ]
            return shown[-1:]

        def plug(cid, on):
            (hardware.plugged.add if on else hardware.plugged.discard)(cid)
            r.service.connector_changed(cid)

        assert _reserve(r, 7, "ZERO", connector=0) == "Accepted"
        await settle()
        assert (last(1), last(2)) == (["Available"], ["Available"])  # either may serve it
        plug(1, True)
        await until(lambda: last(2) == ["Reserved"])  # now the last free one
        plug(1, False)
        await until(lambda: last(2) == ["Available"])
        plug(2, True)
        await until(lambda: last(1) == ["Reserved"] and last(2) == ["Preparing"])
        routes = r.service.handlers.auth_routes
        assert routes.on_cancel_reservation(7).status == "Accepted"
        await until(lambda: last(1) == ["Available"])
        assert _reserve(r, 8, "ZERO", connector=0, minutes=1) == "Accepted"
        await until(lambda: last(1) == ["Reserved"])
        await r.timers.advance(61)
        await until(lambda: last(1) == ["Available"])
