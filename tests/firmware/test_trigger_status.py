"""TriggerMessage for the status notices: the state of a transfer under way, Idle otherwise
(OCPP 1.6: Idle only when nothing runs), checked by the strict CSMS."""

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.app import Charger
from controller.config import make_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diagnostics"))
from strict_csms import StrictCsms
from transfer_servers import Received, http_server

CP = "CP-FW-TRIGGER"
pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _statuses(csms):
    return [e["payload"]["status"] for e in csms.calls("FirmwareStatusNotification")]


async def test_trigger_reports_the_download_under_way_then_idle(tmp_path):
    received = Received(delay_s=3.0)  # a slow server, then 404
    async with StrictCsms.start() as csms:
        charger = Charger(
            make_settings(
                ocpp={"url": csms.url, "charge_point_id": CP},
                state={"dir": tmp_path / "state"},
                connector=[{"id": 1, "driver": "sim"}],
                web={"enabled": False},
            )
        )
        run = asyncio.create_task(charger.run())
        try:
            await csms.wait_for_call("BootNotification", timeout=30)
            trigger = {"requestedMessage": "FirmwareStatusNotification"}
            assert (await csms.call(CP, "TriggerMessage", trigger))["status"] == "Accepted"
            await csms.wait_for_call("FirmwareStatusNotification", timeout=10)
            assert _statuses(csms) == ["Idle"]
            with http_server(received) as base:
                now = datetime.now(UTC).isoformat()
                await csms.call(
                    CP,
                    "UpdateFirmware",
                    {
                        "location": f"{base}/chargectl-9-py3-none-any.whl",
                        "retrieveDate": now,
                        "retries": 1,
                    },
                )
                await csms.wait_for_call(
                    "FirmwareStatusNotification", lambda p: p["status"] == "Downloading", 10
                )
                await csms.call(CP, "TriggerMessage", trigger)
                await csms.wait_for_call(
                    "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed", 20
                )
            await csms.call(CP, "TriggerMessage", trigger)
            async with asyncio.timeout(10):
                while len(_statuses(csms)) < 5:
                    await asyncio.sleep(0.05)
            assert _statuses(csms) == [
                "Idle",
                "Downloading",
                "Downloading",
                "DownloadFailed",
                "Idle",
            ]
            assert received.methods == ["GET"]
        finally:
            charger.stop()
            await asyncio.wait_for(run, 20)
        assert csms.violations == []
