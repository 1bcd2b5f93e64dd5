"""The independent strict CSMS sees Current.Offered follow the main-fuse guard (issue 14, item 4):
a simulated house behind the simulated grid meter, the real service, MeterValues every second."""

import asyncio
import contextlib

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CP-FUSE-1"
pytestmark = [
    pytest.mark.skipif(StrictCsms.available() is not None, reason=str(StrictCsms.available())),
    pytest.mark.slow,
]


def _offered(call):
    for mv in call["payload"].get("meterValue", []):
        for sv in mv["sampledValue"]:
            if sv.get("measurand") == "Current.Offered":
                return float(sv["value"])
    return None


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        charger = Charger(
            make_settings(
                ocpp={"url": csms.url, "charge_point_id": CP},
                state={"dir": tmp_path / "state"},
                station={
                    "main_fuse_a": 25,
                    "grid_meter": {"type": "sim", "increase_after_s": 3},
                },
                connector=[{"id": 1, "max_current_a": 16}],
                simulator={"ev_response_s": 0.3},
                pilot={"min_pause_s": 5},
                web={"enabled": False},
            )
        )
        assert charger.loop.main_fuse is not None
        house = charger.loop.main_fuse.meter.house
        house.set_load((1.0, 1.0, 1.0))
        run = asyncio.create_task(charger.run())

        async def offered_becomes(value, timeout_s):
            mark = len(csms.events)
            call = await csms.wait_for_call(
                "MeterValues", lambda p: _offered({"payload": p}) == value, timeout_s, mark
            )
            return _offered(call)

        try:
            await csms.wait_for_call("BootNotification", timeout=30)
            r = await csms.call(
                CP, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
            )
            assert r["status"] == "Accepted"
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "FUSE", "connectorId": 1})
            assert r["status"] == "Accepted"
            assert await offered_becomes(16.0, 30) == 16.0
            house.set_load((1.0, 13.0, 1.0))  # L2: 13 A of house and 16 A of car
            assert await offered_becomes(11.0, 10) == 11.0
            doc = charger.status_document()
            c = doc["connectors"][0]
            assert c["limit_source"] == "main_fuse"
            assert c["limit_explanation"].startswith("main fuse: L2 at ")
            assert doc["grid"]["main_fuse_a"] == 25
            house.set_load((1.0, 1.0, 1.0))
            assert await offered_becomes(16.0, 20) == 16.0
            return csms.violations
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)


def test_current_offered_follows_the_main_fuse(tmp_path):
    assert asyncio.run(asyncio.wait_for(_story(tmp_path), 120)) == []
