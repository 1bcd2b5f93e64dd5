"""Security profile 1 in 2.0.1 against the strict ocpp-rpc CSMS: HTTP Basic auth with the
configured password, the device model saying so, and a refused password reported as a
security event once the station is let in."""

import asyncio
import contextlib

import pytest
from strict_csms import StrictCsms
from test_strict_v201 import V201

from controller.app import Charger
from controller.config import make_settings

CP = "CS-AUTH-201"
PASSWORD = "basic-201-pass-0815"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _story(tmp_path):
    async with StrictCsms.start(V201) as csms:
        await csms.set_password("the-csms-wants-another")
        settings = make_settings(
            ocpp={
                "url": csms.url,
                "charge_point_id": CP,
                "version": "2.0.1",
                "password": PASSWORD,
                "max_reconnect_interval_s": 1,
            },
            state={"dir": tmp_path / "state"},
            connector=[{"id": 1, "driver": "sim"}],
            web={"enabled": False},
        )
        charger = Charger(settings)
        run = asyncio.create_task(charger.run())
        try:
            await asyncio.sleep(3)  # refused: HTTP 401, retried with backoff
            assert csms.calls("BootNotification") == []
            await csms.set_password(PASSWORD)
            await csms.wait_for_call("BootNotification", timeout=30)
            r = await csms.call(
                CP,
                "GetVariables",
                {
                    "getVariableData": [
                        {
                            "component": {"name": "SecurityCtrlr"},
                            "variable": {"name": "SecurityProfile"},
                        }
                    ]
                },
            )
            assert r["getVariableResult"][0]["attributeValue"] == "1"
            await csms.wait_for_call(
                "SecurityEventNotification",
                lambda p: p["type"] == "FailedToAuthenticateAtCsms",
                20,
            )
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)
        return csms


def test_basic_auth_in_201(tmp_path):
    csms = asyncio.run(asyncio.wait_for(_story(tmp_path), 60))
    assert csms.violations == [], csms.violations
    assert len(csms.calls("BootNotification")) == 1


NEW_PASSWORD = "new-201:pass|word@2026"


def _password_item(value):
    return {
        "setVariableData": [
            {
                "attributeValue": value,
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }


def _auth_settings(url, tmp_path):
    return make_settings(
        ocpp={
            "url": url,
            "charge_point_id": CP,
            "version": "2.0.1",
            "password": PASSWORD,
            "max_reconnect_interval_s": 1,
        },
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim"}],
        web={"enabled": False},
    )


@contextlib.asynccontextmanager
async def _charger(url, tmp_path):
    charger = Charger(_auth_settings(url, tmp_path))
    run = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(run, 20)


async def _password_story(tmp_path):
    out = {}
    async with StrictCsms.start(V201) as csms:
        await csms.set_password(PASSWORD)
        async with _charger(csms.url, tmp_path):
            await csms.wait_for_call("StatusNotification", timeout=30)
            get = {"getVariableData": [dict(_password_item("x")["setVariableData"][0])]}
            del get["getVariableData"][0]["attributeValue"]
            r = await csms.call(CP, "GetVariables", get)
            assert r["getVariableResult"][0]["attributeStatus"] == "Rejected"  # WriteOnly
            r = await csms.call(CP, "SetVariables", _password_item("too-short"))
            assert r["setVariableResult"][0]["attributeStatus"] == "Rejected"
            mark = len(csms.events)
            r = await csms.call(CP, "SetVariables", _password_item(NEW_PASSWORD))
            assert r["setVariableResult"][0]["attributeStatus"] == "Accepted"  # answered first
            await csms.set_password(NEW_PASSWORD)
            await csms.wait_event(
                lambda e: e["event"] == "disconnected" and e["identity"] == CP, 20, mark
            )
            await csms.wait_connected(CP, timeout=30, since=mark)
            await csms.wait_for_call("StatusNotification", timeout=20, since=mark)
            out["boots"] = len(csms.calls("BootNotification"))
        mark = len(csms.events)
        async with _charger(csms.url, tmp_path):  # restarted: the configured password is old
            await csms.wait_connected(CP, timeout=30, since=mark)
            await csms.wait_for_call("BootNotification", timeout=20, since=mark)
            out["refusals_after_restart"] = [
                c
                for c in csms.calls("SecurityEventNotification")[-5:]
                if c["payload"]["type"] == "FailedToAuthenticateAtCsms"
                and csms.events.index(c) > mark
            ]
    return csms, out


def test_a_new_password_is_answered_then_used_and_kept(tmp_path):
    csms, out = asyncio.run(asyncio.wait_for(_password_story(tmp_path), 90))
    assert csms.violations == [], csms.violations
    assert out["boots"] == 1  # a reconnect, not a reboot
    assert out["refusals_after_restart"] == []
