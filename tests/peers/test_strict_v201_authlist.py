"""2.0.1 authorization against the strict ocpp-rpc CSMS (subprotocol ocpp2.0.1): SendLocalList
Full and Differential with the version rules, GetLocalListVersion, a listed card started with
LocalPreAuthorize (no Authorize) and stopped by a card of its group (GroupId), a card the CSMS
accepts kept in the cache and started from it during an outage, ClearCache, and the list kept
across a restart. Every frame is schema-checked both ways."""

import asyncio
import contextlib
from dataclasses import replace

import pytest
from strict_csms import StrictCsms
from test_strict_v201 import V201

from controller.app import Charger
from controller.config import make_settings

CP = "CS-AUTH-LIST-201"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _settings(url, tmp_path):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP, "version": "2.0.1"},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.3, "plugged_in": False},
        web={"enabled": False},
    )


@contextlib.asynccontextmanager
async def _running(csms, tmp_path):
    mark = len(csms.events)
    charger = Charger(_settings(csms.url, tmp_path))
    charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
    run = asyncio.create_task(charger.run())
    try:
        await csms.wait_for_call("StatusNotification", timeout=30, since=mark)
        yield charger
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(run, 20)


def _entry(tag, status=None, group=None):
    e = {"idToken": {"idToken": tag, "type": "ISO14443"}}
    if status is not None:
        e["idTokenInfo"] = {"status": status}
        if group:
            e["idTokenInfo"]["groupIdToken"] = {"idToken": group, "type": "Central"}
    return e


def _set(component, variable, value):
    return {
        "setVariableData": [
            {
                "attributeValue": value,
                "component": {"name": component},
                "variable": {"name": variable},
            }
        ]
    }


async def _tag(charger, id_tag):
    answer = await charger.tags.handle_request({"request": "tag", "id_tag": id_tag})
    assert answer["ok"], answer
    return answer["accepted"]


def _event(kind):
    return lambda p: p["eventType"] == kind


async def _unplug(csms, ev):
    mark = len(csms.events)
    ev.unplug()
    await csms.wait_for_call(
        "StatusNotification", lambda p: p["connectorStatus"] == "Available", 20, since=mark
    )


async def _story(csms, tmp_path):
    out = {}
    async with _running(csms, tmp_path) as charger:
        r = await csms.call(CP, "GetLocalListVersion", {})
        assert r["versionNumber"] == 0
        full = [_entry("LIST-A", "Accepted", "FLEET"), _entry("LIST-B", "Accepted", "FLEET")]
        full.append(_entry("LIST-X", "Blocked"))
        r = await csms.call(
            CP,
            "SendLocalList",
            {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": full},
        )
        assert r["status"] == "Accepted"
        stale = {
            "versionNumber": 1,
            "updateType": "Differential",
            "localAuthorizationList": [_entry("LIST-Y", "Accepted")],
        }
        r = await csms.call(CP, "SendLocalList", stale)
        assert r["status"] == "VersionMismatch"
        diff = {
            "versionNumber": 2,
            "updateType": "Differential",
            "localAuthorizationList": [_entry("LIST-X")],  # no idTokenInfo: removed
        }
        assert (await csms.call(CP, "SendLocalList", diff))["status"] == "Accepted"
        assert (await csms.call(CP, "GetLocalListVersion", {}))["versionNumber"] == 2
        r = await csms.call(CP, "SetVariables", _set("AuthCtrlr", "LocalPreAuthorize", "true"))
        assert r["setVariableResult"][0]["attributeStatus"] == "Accepted"

        # C09 + C12: a listed card starts at once, a card of its group stops it
        ev = charger.hardware[1].ev
        mark = len(csms.events)
        ev.plug_in()
        assert await _tag(charger, "LIST-A")
        await csms.wait_for_call("TransactionEvent", _event("Started"), 20, since=mark)
        assert await _tag(charger, "LIST-B")
        ended = await csms.wait_for_call("TransactionEvent", _event("Ended"), 20, since=mark)
        assert ended["payload"]["triggerReason"] == "StopAuthorized"
        out["authorize_for_listed"] = len(csms.calls("Authorize"))
        await _unplug(csms, ev)

        # C10: a card the CSMS accepts is cached and starts from the cache offline
        mark = len(csms.events)
        ev.plug_in()
        assert await _tag(charger, "CACHED-C")  # Authorize: Accepted
        await csms.wait_for_call("TransactionEvent", _event("Started"), 20, since=mark)
        assert await _tag(charger, "CACHED-C")
        await csms.wait_for_call("TransactionEvent", _event("Ended"), 20, since=mark)
        await _unplug(csms, ev)
        await csms.set_password("not-the-stations")
        await csms.close_connection(CP)
        await asyncio.sleep(1)
        ev.plug_in()
        assert not await _tag(charger, "NEVER-SEEN")
        assert await _tag(charger, "CACHED-C")
        for _ in range(200):  # the start is recorded offline, once the plug is seen
            if charger.ocpp.active_transaction(1) is not None:
                break
            await asyncio.sleep(0.05)
        assert charger.ocpp.active_transaction(1) is not None
        out["status_id"] = charger.status_document()["connectors"][0]["transaction"][
            "transaction_id"
        ]
        await csms.set_password(None)
        mark = len(csms.events)
        started = await csms.wait_for_call("TransactionEvent", _event("Started"), 30, since=mark)
        out["offline_start"] = started["payload"]
        assert await _tag(charger, "CACHED-C")
        await csms.wait_for_call("TransactionEvent", _event("Ended"), 20, since=mark)
        ev.unplug()

        # C11
        assert charger.ocpp.auth_status()["auth_cache_entries"] == 1
        assert (await csms.call(CP, "ClearCache", {}))["status"] == "Accepted"
        assert charger.ocpp.auth_status()["auth_cache_entries"] == 0
        out["authorize_calls"] = [
            c["payload"]["idToken"]["idToken"] for c in csms.calls("Authorize")
        ]
    async with _running(csms, tmp_path):  # D02 after a restart: the list is kept
        out["version_after_restart"] = (await csms.call(CP, "GetLocalListVersion", {}))[
            "versionNumber"
        ]
    return out


def test_local_list_cache_and_group_against_the_strict_csms(tmp_path):
    async def main():
        async with StrictCsms.start(V201) as csms:
            out = await asyncio.wait_for(_story(csms, tmp_path), 120)
            return csms, out

    csms, out = asyncio.run(main())
    assert csms.violations == [], csms.violations
    assert out["authorize_for_listed"] == 0  # LocalPreAuthorize: the list was the word
    assert out["authorize_calls"] == ["CACHED-C"]  # once; offline from the cache, then stops
    assert out["offline_start"]["offline"] is True
    assert out["offline_start"]["idToken"]["idToken"] == "CACHED-C"
    assert out["version_after_restart"] == 2
    assert out["status_id"] == out["offline_start"]["transactionInfo"]["transactionId"]
