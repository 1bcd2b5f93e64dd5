"""Reservations, pure: the ReserveNow answers, the gate, connector 0, expiry, claims."""

from datetime import UTC, datetime, timedelta

from controller.auth import Reservation, Reservations, ReserveStatus, reserve_verdict
from controller.auth.reservations import ConnectorState
from controller.station import Authorization

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
FREE = ConnectorState(faulted=False, operative=True, available=True)


def _res(rid, cid, tag="aa11", parent=None, expiry=LATER):
    return Reservation(rid, cid, tag, parent, expiry)


def _verdict(req, held=None, states=None, zero=True):
    return reserve_verdict(
        req,
        held or Reservations(),
        states or {1: FREE, 2: FREE},
        zero_supported=zero,
        now=NOW,
    )


def test_reserve_now_answers():
    assert _verdict(_res(1, 1)) is ReserveStatus.ACCEPTED
    assert _verdict(_res(1, 1, expiry=NOW)) is ReserveStatus.REJECTED
    assert _verdict(_res(1, 9)) is ReserveStatus.REJECTED
    faulted = {1: ConnectorState(True, True, False), 2: FREE}
    assert _verdict(_res(1, 1), states=faulted) is ReserveStatus.FAULTED
    off = {1: ConnectorState(False, False, True), 2: FREE}
    assert _verdict(_res(1, 1), states=off) is ReserveStatus.UNAVAILABLE
    busy = {1: ConnectorState(False, True, False), 2: FREE}
    assert _verdict(_res(1, 1), states=busy) is ReserveStatus.OCCUPIED
    held = Reservations([_res(1, 1)])
    assert _verdict(_res(2, 1, "bb22"), held) is ReserveStatus.OCCUPIED
    assert _verdict(_res(1, 1, "bb22"), held) is ReserveStatus.ACCEPTED  # same id: replaces


def test_connector_zero_needs_support_and_a_free_connector_per_reservation():
    assert _verdict(_res(1, 0), zero=False) is ReserveStatus.REJECTED
    held = Reservations([_res(1, 0), _res(2, 1)])
    # connector 1 is held, connector 2 kept free for reservation 1: nothing left
    assert _verdict(_res(3, 0), held) is ReserveStatus.OCCUPIED
    assert _verdict(_res(3, 0), Reservations([_res(1, 0)])) is ReserveStatus.ACCEPTED


def test_gate_admits_the_tag_or_its_group_only():
    held = Reservations([_res(1, 1, "AA11", parent="FLEET")])
    assert held.may_start(1, Authorization("aa11", None, 0.0))
    assert held.may_start(1, Authorization("zz99", None, 0.0, parent_id_tag="fleet"))
    assert not held.may_start(1, Authorization("zz99", None, 0.0))
    assert held.may_start(2, Authorization("zz99", None, 0.0))  # another connector
    claimed = held.claim(1, "aa11", None)
    assert claimed is not None and claimed.reservation_id == 1


def test_connector_zero_keeps_one_connector_free():
    free = {1: 1, 2: 0}  # others free, seen from connector 1 and from connector 2
    held = Reservations([_res(7, 0)], free_others=lambda cid: free[cid])
    stranger = Authorization("zz99", None, 0.0)
    assert held.may_start(1, stranger)  # connector 2 stays free for the reservation
    assert not held.may_start(2, stranger)  # it would take the last free connector
    assert not held.holds(1) and held.holds(2)  # which shows Reserved
    assert held.may_start(2, Authorization("AA11", None, 0.0))
    claimed = held.claim(2, "aa11", None)
    assert claimed is not None and claimed.reservation_id == 7


def test_expiry_removes_what_is_due():
    held = Reservations([_res(1, 1, expiry=NOW), _res(2, 2)])
    assert held.next_expiry() == NOW
    assert [r.reservation_id for r in held.expire(NOW)] == [1]
    assert held.next_expiry() == LATER and held.on_connector(1) is None
