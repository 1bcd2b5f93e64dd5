"""A CSMS that accepts the connection and then stops answering: the charger's calls time out,
it reconnects, keeps enforcing the pause, and once the CSMS answers again every meter value is
answered exactly once, in order, with zero schema violations."""

import asyncio
import contextlib
from dataclasses import replace

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings
from controller.demo import PAUSE_PROFILE

CP = "CP-HUNG-1"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        charger = Charger(
            make_settings(
                ocpp={
                    "url": csms.url,
                    "charge_point_id": CP,
                    "call_timeout_s": 3,
                    "free_vend_id_tag": "FREE",
                },
                state={"dir": tmp_path / "state"},
                connector=[{"id": 1, "driver": "sim"}],
                simulator={"ev_response_s": 0.3},
            )
        )
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
        run = asyncio.create_task(charger.run())
        try:
            await csms.wait_for_call("StartTransaction", timeout=30)
            await csms.call(
                CP, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
            )
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"connectorId": 1, "csChargingProfiles": {**PAUSE_PROFILE, "transactionId": 1}},
            )
            assert r["status"] == "Accepted"
            await csms.mute(CP, True)
            offered = []
            for _ in range(15):
                await asyncio.sleep(1)
                offered.append(charger.loop.unit(1).status.offered_a)
            await csms.mute(CP, False)
            for _ in range(300):
                if charger.ocpp.db.pending() == 0 and charger.ocpp.link_state == "booted":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)
            return csms, offered
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)


@pytest.mark.slow
def test_hung_csms(tmp_path):
    csms, offered = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert offered == [0.0] * 15  # the pause held while the CSMS hung
    answered = [c["payload"]["meterValue"][0]["timestamp"] for c in csms.answered("MeterValues")]
    assert len(answered) >= 15
    assert len(answered) == len(set(answered)) and answered == sorted(answered)
    # Reconnects happened (the calls timed out) and nothing broke the schema.
    assert len([e for e in csms.events if e["event"] == "connected"]) >= 2
    assert csms.violations == []
    assert len(csms.answered("StartTransaction")) == 1
