"""The charger against an independent CSMS that validates every frame both ways (npm ocpp-rpc,
strict mode): boot, remote start, the seed's pause and resume, a 60 s outage with 1 s meter
values, remote stop, with zero schema violations."""

import asyncio
import contextlib
from dataclasses import replace

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings
from controller.demo import PAUSE_PROFILE, RESUME_PROFILE

CP = "CP-STRICT-1"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _settings(url, tmp_path):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.5},
        pilot={"min_pause_s": 5},
    )


def _status_is(status):
    return lambda p: p["connectorId"] == 1 and p["status"] == status


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        charger = Charger(_settings(csms.url, tmp_path))
        # Reconnect within a few seconds of the CSMS coming back.
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=4.0)
        run = asyncio.create_task(charger.run())
        try:
            await csms.wait_for_call("BootNotification", timeout=30)
            await csms.wait_for_call("StatusNotification", _status_is("Preparing"), 20)
            assert (
                await csms.call(
                    CP, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
                )
            )["status"] == "Accepted"
            keys = await csms.call(
                CP, "GetConfiguration", {"key": ["AuthorizationKey", "NumberOfConnectors"]}
            )
            entries = {k["key"]: k for k in keys["configurationKey"]}
            assert "value" not in entries["AuthorizationKey"]
            assert entries["NumberOfConnectors"]["value"] == "1"

            mark = len(csms.events)
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "STRICT", "connectorId": 1})
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StartTransaction", timeout=20, since=mark)
            tx_id = 1
            await csms.wait_for_call("StatusNotification", _status_is("Charging"), 20, since=mark)

            mark = len(csms.events)
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"connectorId": 1, "csChargingProfiles": {**PAUSE_PROFILE, "transactionId": tx_id}},
            )
            assert r["status"] == "Accepted"
            await csms.wait_for_call(
                "StatusNotification", _status_is("SuspendedEVSE"), 10, since=mark
            )
            comp = await csms.call(CP, "GetCompositeSchedule", {"connectorId": 1, "duration": 600})
            assert comp["status"] == "Accepted"
            assert [p["limit"] for p in comp["chargingSchedule"]["chargingSchedulePeriod"]] == [0]

            await asyncio.sleep(5)
            mark = len(csms.events)
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {
                    "connectorId": 1,
                    "csChargingProfiles": {**RESUME_PROFILE, "transactionId": tx_id},
                },
            )
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StatusNotification", _status_is("Charging"), 20, since=mark)
            comp = await csms.call(
                CP,
                "GetCompositeSchedule",
                {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"},
            )
            assert [p["limit"] for p in comp["chargingSchedule"]["chargingSchedulePeriod"]] == [16]

            # A 60 s outage mid-transaction: the CSMS drops the link and refuses reconnects.
            await csms.set_password("not-the-chargers")
            await csms.close_connection(CP)
            await asyncio.sleep(60)
            await csms.set_password(None)
            mark = len(csms.events)
            await csms.wait_connected(CP, timeout=60, since=mark)
            await asyncio.sleep(3)  # let the queue drain
            assert charger.ocpp.db.pending() == 0 or await _drained(charger)

            mark = len(csms.events)
            r = await csms.call(CP, "RemoteStopTransaction", {"transactionId": tx_id})
            assert r["status"] == "Accepted"
            stop = await csms.wait_for_call("StopTransaction", timeout=20, since=mark)
            assert stop["payload"]["transactionId"] == tx_id
            assert stop["payload"]["reason"] == "Remote"
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)
        return csms


async def _drained(charger):
    for _ in range(100):
        if charger.ocpp.db.pending() == 0:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.slow
def test_seed_story_against_the_strict_csms(tmp_path):
    csms = asyncio.run(asyncio.wait_for(_story(tmp_path), 240))
    assert csms.violations == [], csms.violations
    meter = [c["payload"] for c in csms.calls("MeterValues")]
    stamps = [m["meterValue"][0]["timestamp"] for m in meter]
    # every sample once, in order, including the ~60 taken while the CSMS was gone
    assert len(stamps) == len(set(stamps))
    assert stamps == sorted(stamps)
    assert len(stamps) >= 65
    assert all(m["transactionId"] == 1 for m in meter)
    assert len(csms.calls("StartTransaction")) == 1
    assert len(csms.calls("StopTransaction")) == 1
    assert len(csms.calls("BootNotification")) == 1
    events = [c["payload"]["type"] for c in csms.calls("SecurityEventNotification")]
    assert "FailedToAuthenticateAtCentralSystem" in events
