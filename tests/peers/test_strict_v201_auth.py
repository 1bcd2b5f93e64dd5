"""Security profile 1 in 2.0.1 against the strict ocpp-rpc CSMS: HTTP Basic auth with the
configured password, the device model saying so, and a refused password reported as a
security event once the station is let in."""

import asyncio
import contextlib

import pytest
from strict_csms import StrictCsms
from test_strict_v201 import V201

from controller.app import Charger
from controller.config import Settings

CP = "CS-AUTH-201"
PASSWORD = "basic-201-pass-0815"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _story(tmp_path):
    async with StrictCsms.start(V201) as csms:
        await csms.set_password("the-csms-wants-another")
        settings = Settings(
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
