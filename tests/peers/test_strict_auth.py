"""Local authorization against the independent strict CSMS (npm ocpp-rpc, strict mode, every
frame schema-checked both ways): cards through the `chargectl tag` request, Authorize, start,
stop by the same card and by one of its group; SendLocalList Full and Differential with the
version rules; offline starts from the local list and from the cache, delivered after the
reconnect; reserve, Reserved, another card refused, the reserved card's start carrying the
reservationId, expiry back to Available; a reservation that outlives a restart."""

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CP-STRICT-AUTH"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _settings(url, tmp_path):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.3, "plugged_in": False},
        web={"enabled": False},
    )


def _status_is(status):
    return lambda p: p["connectorId"] == 1 and p["status"] == status


def _expiry(seconds):
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextlib.asynccontextmanager
async def _running(csms, tmp_path):
    charger = Charger(_settings(csms.url, tmp_path))
    charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
    run = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(run, 20)


async def _tag(charger, id_tag):
    answer = await charger.tags.handle_request({"request": "tag", "id_tag": id_tag})
    assert answer["ok"], answer
    return answer["accepted"]


async def _session(csms, charger, start_tag, stop_tag):
    """Plug in, start with one card, stop with another, unplug; the StartTransaction and the
    StopTransaction payloads."""
    ev = charger.hardware[1].ev
    mark = len(csms.events)
    ev.plug_in()
    assert await _tag(charger, start_tag)
    start = await csms.wait_for_call("StartTransaction", timeout=20, since=mark)
    assert await _tag(charger, stop_tag)
    stop = await csms.wait_for_call("StopTransaction", timeout=20, since=mark)
    ev.unplug()
    await csms.wait_for_call("StatusNotification", _status_is("Available"), 20, since=mark)
    return start["payload"], stop["payload"]


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        for tag in ("ALICE", "BOB"):
            info = {"status": "Accepted", "parentIdTag": "FLEET"}
            await csms.set_response("Authorize", {"idTagInfo": info}, id_tag=tag)
        await csms.set_response("Authorize", {"idTagInfo": {"status": "Invalid"}}, id_tag="NOPE")
        async with _running(csms, tmp_path) as charger:
            await csms.wait_for_call("BootNotification", timeout=30)
            await csms.wait_for_call("StatusNotification", _status_is("Available"), 20)
            keys = await csms.call(CP, "GetConfiguration", {"key": ["SupportedFeatureProfiles"]})
            profiles = keys["configurationKey"][0]["value"].split(",")
            assert {"LocalAuthListManagement", "Reservation"} <= set(profiles)

            # Authorize, start, stop by the same card; then by another card of its group
            start, stop = await _session(csms, charger, "ALICE", "alice")
            assert (start["idTag"], stop["idTag"], stop["reason"]) == ("ALICE", "alice", "Local")
            start, stop = await _session(csms, charger, "BOB", "ALICE")
            assert (start["idTag"], stop["idTag"]) == ("BOB", "ALICE")
            assert not await _tag(charger, "NOPE")

            # the local list: Full, then Differential under the version rules
            full = [
                {"idTag": "LIST1", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "BLK", "idTagInfo": {"status": "Blocked"}},
            ]
            r = await csms.call(
                CP,
                "SendLocalList",
                {"listVersion": 1, "updateType": "Full", "localAuthorizationList": full},
            )
            assert r["status"] == "Accepted"
            same = {"listVersion": 1, "updateType": "Differential", "localAuthorizationList": []}
            assert (await csms.call(CP, "SendLocalList", same))["status"] == "VersionMismatch"
            diff = [{"idTag": "LIST2", "idTagInfo": {"status": "Accepted"}}, {"idTag": "LIST1"}]
            r = await csms.call(
                CP,
                "SendLocalList",
                {"listVersion": 2, "updateType": "Differential", "localAuthorizationList": diff},
            )
            assert r["status"] == "Accepted"
            assert (await csms.call(CP, "GetLocalListVersion", {}))["listVersion"] == 2
            assert charger.status_document()["csms"]["local_list_version"] == 2

            # offline: the list and the cache start, unknown and blocked cards do not
            await csms.set_password("not-the-chargers")
            await csms.close_connection(CP)
            while charger.ocpp.link_state == "booted":
                await asyncio.sleep(0.05)
            ev = charger.hardware[1].ev
            ev.plug_in()
            assert not await _tag(charger, "UNKNOWN")
            assert not await _tag(charger, "BLK")
            assert not await _tag(charger, "LIST1")  # removed by the Differential update
            for tag in ("list2", "bob"):  # from the list; from the cache
                assert await _tag(charger, tag)
                while charger.ocpp.active_transaction(1) is None:
                    await asyncio.sleep(0.05)
                assert await _tag(charger, tag)
                ev.unplug()
                await asyncio.sleep(0.5)
                ev.plug_in()
            ev.unplug()
            assert charger.ocpp.db.pending() >= 4
            mark = len(csms.events)
            await csms.set_password(None)
            await csms.wait_connected(CP, timeout=30, since=mark)
            for _ in range(200):
                if charger.ocpp.db.pending() == 0:
                    break
                await asyncio.sleep(0.1)
            starts = [c["payload"]["idTag"] for c in csms.calls("StartTransaction")[2:]]
            assert starts == ["list2", "bob"]
            assert len(csms.calls("StopTransaction")) == 4

            # a reservation: Reserved, another card refused, the reserved card's start
            mark = len(csms.events)
            reserve = {"connectorId": 1, "expiryDate": _expiry(120), "idTag": "RES1"}
            r = await csms.call(CP, "ReserveNow", {**reserve, "reservationId": 7})
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StatusNotification", _status_is("Reserved"), 20, since=mark)
            assert charger.status_document()["connectors"][0]["reservation"]["reservation_id"] == 7
            assert not await _tag(charger, "ALICE")
            start, _ = await _session(csms, charger, "res1", "RES1")
            assert start["reservationId"] == 7 and start["idTag"] == "res1"

            # expiry gives the connector back
            mark = len(csms.events)
            r = await csms.call(
                CP, "ReserveNow", {**reserve, "expiryDate": _expiry(3), "reservationId": 8}
            )
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StatusNotification", _status_is("Reserved"), 20, since=mark)
            await csms.wait_for_call("StatusNotification", _status_is("Available"), 20, since=mark)

            r = await csms.call(CP, "ReserveNow", {**reserve, "reservationId": 9})
            assert r["status"] == "Accepted"
        # a restart keeps the reservation
        mark = len(csms.events)
        async with _running(csms, tmp_path) as charger:
            await csms.wait_for_call("StatusNotification", _status_is("Reserved"), 30, since=mark)
            assert charger.status_document()["connectors"][0]["reservation"]["reservation_id"] == 9
            r = await csms.call(CP, "CancelReservation", {"reservationId": 9})
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StatusNotification", _status_is("Available"), 20, since=mark)
            assert (await csms.call(CP, "GetLocalListVersion", {}))["listVersion"] == 2
        return csms


@pytest.mark.slow
def test_local_authorization_story_against_the_strict_csms(tmp_path):
    csms = asyncio.run(asyncio.wait_for(_story(tmp_path), 240))
    assert csms.violations == [], csms.violations


async def _max_energy_story(tmp_path):
    async with StrictCsms.start() as csms:
        refused = {"transactionId": 77, "idTagInfo": {"status": "Invalid"}}
        await csms.set_response("StartTransaction", refused, id_tag="STOLEN")
        async with _running(csms, tmp_path) as charger:
            await csms.wait_for_call("BootNotification", timeout=30)
            await csms.wait_for_call("StatusNotification", _status_is("Available"), 20)
            for key, value in (
                ("StopTransactionOnInvalidId", "false"),
                ("MaxEnergyOnInvalidId", "5"),
            ):
                r = await csms.call(CP, "ChangeConfiguration", {"key": key, "value": value})
                assert r["status"] == "Accepted"
            keys = await csms.call(CP, "GetConfiguration", {"key": ["MaxEnergyOnInvalidId"]})
            assert keys["configurationKey"][0]["value"] == "5"

            charger.hardware[1].ev.plug_in()
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "STOLEN", "connectorId": 1})
            assert r["status"] == "Accepted"
            start = (await csms.wait_for_call("StartTransaction", timeout=20))["payload"]
            await csms.wait_for_call("StatusNotification", _status_is("Charging"), 20)
            mark = len(csms.events)
            paused = _status_is("SuspendedEVSE")
            await csms.wait_for_call("StatusNotification", paused, 30, since=mark)
            c = charger.status_document()["connectors"][0]
            assert (c["offered_a"], c["limit_source"]) == (0.0, "invalid_id_energy")
            assert "energy limit for an invalid card reached" in c["pause_reason"]
            assert charger.ocpp.active_transaction(1) is not None
            await asyncio.sleep(1.0)  # the car's last draw after the pause ends
            held_wh = charger.status_document()["connectors"][0]["energy_wh"]
            await asyncio.sleep(2.0)
            assert charger.status_document()["connectors"][0]["energy_wh"] == held_wh
            assert csms.calls("StopTransaction") == []

            r = await csms.call(CP, "RemoteStopTransaction", {"transactionId": 77})
            assert r["status"] == "Accepted"
            stop = (await csms.wait_for_call("StopTransaction", timeout=20))["payload"]
    return csms, stop["meterStop"] - start["meterStart"]


def test_max_energy_on_invalid_id_pauses_a_refused_session_against_the_strict_csms(tmp_path):
    """A car charging fast under a refused idTag gets MaxEnergyOnInvalidId (5 Wh) and is then
    paused, its register standing still and the session kept open until the central system
    stops it."""
    csms, delivered_wh = asyncio.run(asyncio.wait_for(_max_energy_story(tmp_path), 120))
    assert csms.violations == [], csms.violations
    assert 5 <= delivered_wh < 40  # 5 Wh, and what a 22 kW car draws before it sees the pause
