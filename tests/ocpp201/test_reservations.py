"""H: reservations in 2.0.1 on the shared machinery, on an in-memory link and a fake clock:
Reserved, another card refused, the reserved card's (or group's) start carrying the
reservationId, expiry reported with ReservationStatusUpdate, cancel, the refusals, and a
reservation kept across a restart."""

from __future__ import annotations

from datetime import timedelta

from hw.base import CpState
from tests.ocpp.unit.ocpp_unit_rig import until
from tests.ocpp201.rig201 import booted, rig201
from tests.ocpp201.test_authorization import by_token


def _iso(at):
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _statuses(r):
    return [p["connectorStatus"] for a, p in r.csms.answered if a == "StatusNotification"]


def _updates(r):
    return [p for a, p in r.csms.answered if a == "ReservationStatusUpdate"]


def _card(tag):
    return {"id_token": tag, "type": "ISO14443"}


async def test_a_reserved_evse_starts_only_for_its_token_and_the_start_names_it(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        h, expiry = r.service.handlers, _iso(r.clock.now() + timedelta(hours=1))
        assert h.reserve_now(7, expiry, _card("R1"), 1, None) == ("Accepted", None)
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        assert r.service.auth_status(1)["reservation"]["reservation_id"] == 7
        assert h.reserve_now(8, expiry, _card("R2"), 1, None)[0] == "Occupied"
        assert h.reserve_now(9, expiry, _card("R2"), 5, None)[0] == "Rejected"  # no EVSE 5
        assert not await r.service.present_id_tag(1, "Z")  # accepted by the CSMS, not reserved
        assert await r.service.present_id_tag(1, "R1")
        r.hardware.cp_state = CpState.B
        r.changed()
        await until(lambda: len(r.events()) == 1)
        assert r.events()[0]["reservationId"] == 7
        assert r.service.auth_status(1)["reservation"] is None
        assert _updates(r) == []  # used, not expired or removed


async def test_a_card_of_the_reserved_group_may_use_the_reservation(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        expiry = _iso(r.clock.now() + timedelta(hours=1))
        group = {"id_token": "FLEET", "type": "Central"}
        assert r.service.handlers.reserve_now(3, expiry, _card("A"), None, group)[0] == "Accepted"
        assert not await r.service.present_id_tag(1, "C")  # group OTHER
        assert await r.service.present_id_tag(1, "B")  # group FLEET
        r.hardware.cp_state = CpState.B
        r.changed()
        await until(lambda: len(r.events()) == 1)
        assert r.events()[0]["reservationId"] == 3


async def test_expiry_is_reported_and_cancel_answers(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        h = r.service.handlers
        assert h.reserve_now(1, _iso(r.clock.now() + timedelta(seconds=60)), _card("A"), 1, None)
        await until(lambda: _statuses(r)[-1:] == ["Reserved"])
        await r.timers.advance(61)
        await until(lambda: len(_updates(r)) == 1)
        assert _updates(r) == [{"reservationId": 1, "reservationUpdateStatus": "Expired"}]
        await until(lambda: _statuses(r)[-1:] == ["Available"])
        past = _iso(r.clock.now() - timedelta(seconds=1))
        assert h.reserve_now(2, past, _card("A"), 1, None)[0] == "Rejected"
        assert h.reserve_now(2, _iso(r.clock.now() + timedelta(hours=1)), _card("A"), 1, None)
        assert h.cancel_reservation(2) == "Accepted"
        assert h.cancel_reservation(2) == "Rejected"
        assert len(_updates(r)) == 1  # a cancel is not reported


async def test_a_reservation_outlives_a_restart(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        expiry = _iso(r.clock.now() + timedelta(hours=1))
        assert r.service.handlers.reserve_now(4, expiry, _card("A"), 1, None)[0] == "Accepted"
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        assert r.service.auth_status(1)["reservation"]["reservation_id"] == 4
        assert "Reserved" in _statuses(r)


async def test_an_evse_made_unavailable_removes_its_reservation(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        h = r.service.handlers
        assert h.reserve_now(5, _iso(r.clock.now() + timedelta(hours=1)), _card("A"), 1, None)
        assert h.change_availability(1, False) == "Accepted"
        await until(lambda: len(_updates(r)) == 1)
        assert _updates(r) == [{"reservationId": 5, "reservationUpdateStatus": "Removed"}]
        assert r.service.auth_status(1)["reservation"] is None
