"""Security profile 1: HTTP Basic auth against the strict CSMS, with the right password and
after the CSMS set a new AuthorizationKey."""

import asyncio
import contextlib
from dataclasses import replace

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CP-AUTH-1"
pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        await csms.set_password("s3cret-pass")
        charger = Charger(
            make_settings(
                ocpp={"url": csms.url, "charge_point_id": CP, "password": "s3cret-pass"},
                state={"dir": tmp_path / "state"},
                connector=[{"id": 1, "driver": "sim"}],
            )
        )
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=1.0)
        run = asyncio.create_task(charger.run())
        try:
            await csms.wait_for_call("BootNotification", timeout=20)
            key = "00112233445566778899aabbccddeeff"
            r = await csms.call(
                CP, "ChangeConfiguration", {"key": "AuthorizationKey", "value": key}
            )
            assert r["status"] == "RebootRequired"
            keys = await csms.call(CP, "GetConfiguration", {"key": ["AuthorizationKey"]})
            assert "value" not in keys["configurationKey"][0]
            # The CSMS now expects the new key; the next connection must use it.
            await csms.set_password(key)
            mark = len(csms.events)
            await csms.close_connection(CP)
            await csms.wait_connected(CP, timeout=20, since=mark)
            return [e for e in csms.events if e["event"] == "connected"]
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)


def test_basic_auth_and_authorization_key(tmp_path):
    connected = asyncio.run(asyncio.wait_for(_story(tmp_path), 60))
    assert len(connected) == 2
