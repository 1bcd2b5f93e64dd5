"""H reservations in 2.0.1 against the strict ocpp-rpc CSMS (subprotocol ocpp2.0.1):
ReserveNow, Reserved, CancelReservation, an expiry reported with ReservationStatusUpdate,
and a reserved card's start carrying the reservationId; every frame schema-checked."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from strict_csms import StrictCsms
from test_strict_v201 import V201
from test_strict_v201_authlist import CP, _event, _running, _tag

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _expiry(seconds):
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _status(word):
    return lambda p: p["connectorStatus"] == word


def _reserve(rid, seconds, tag, evse_id=1):
    out = {
        "id": rid,
        "expiryDateTime": _expiry(seconds),
        "idToken": {"idToken": tag, "type": "ISO14443"},
    }
    return out if evse_id is None else out | {"evseId": evse_id}


async def _story(csms, tmp_path):
    out = {}
    async with _running(csms, tmp_path) as charger:
        mark = len(csms.events)
        assert (await csms.call(CP, "ReserveNow", _reserve(1, 600, "R1")))["status"] == "Accepted"
        await csms.wait_for_call("StatusNotification", _status("Reserved"), 10, since=mark)
        assert (await csms.call(CP, "ReserveNow", _reserve(2, 600, "R2")))["status"] == "Occupied"
        r = await csms.call(CP, "CancelReservation", {"reservationId": 1})
        assert r["status"] == "Accepted"
        await csms.wait_for_call("StatusNotification", _status("Available"), 10, since=mark)
        r = await csms.call(CP, "CancelReservation", {"reservationId": 1})
        assert r["status"] == "Rejected"

        mark = len(csms.events)
        r = await csms.call(CP, "ReserveNow", _reserve(3, 2, "R1", evse_id=None))
        assert r["status"] == "Accepted"
        update = await csms.wait_for_call("ReservationStatusUpdate", timeout=15, since=mark)
        out["update"] = update["payload"]

        mark = len(csms.events)
        assert (await csms.call(CP, "ReserveNow", _reserve(4, 600, "R1")))["status"] == "Accepted"
        assert not await _tag(charger, "SOMEONE-ELSE")
        assert await _tag(charger, "R1")
        charger.hardware[1].ev.plug_in()
        started = await csms.wait_for_call("TransactionEvent", _event("Started"), 20, since=mark)
        out["started"] = started["payload"]
    return out


def test_reservations_against_the_strict_csms(tmp_path):
    async def main():
        async with StrictCsms.start(V201) as csms:
            return csms, await asyncio.wait_for(_story(csms, tmp_path), 90)

    csms, out = asyncio.run(main())
    assert csms.violations == [], csms.violations
    assert out["update"] == {"reservationId": 3, "reservationUpdateStatus": "Expired"}
    assert out["started"]["reservationId"] == 4
    assert len(csms.calls("ReservationStatusUpdate")) == 1
