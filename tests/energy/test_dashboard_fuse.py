"""The dashboard in a real headless Chromium names the main fuse when it sets the offer
(issue 14, item 4): "0 A — main fuse: L2 at 21.5 A of 25 A" while the cooker runs."""

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from ocpp.v16 import call

from controller.app import Charger
from controller.config import make_settings
from controller.demo.csms import DemoCsms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from test_web_browser import ARTIFACTS, Page, _driver, pytestmark  # noqa: F401

from hw.emulators.server import free_port

CP = "CP-FUSE-WEB"


async def _story(tmp_path, shots):
    csms = DemoCsms()
    url = await csms.start()
    port = free_port()
    charger = Charger(
        make_settings(
            ocpp={"url": url, "charge_point_id": CP},
            state={"dir": tmp_path / "state"},
            station={"main_fuse_a": 25, "grid_meter": {"type": "sim"}},
            connector=[{"id": 1, "max_current_a": 16}],
            simulator={"ev_response_s": 0.3},
            web={"listen": f"127.0.0.1:{port}"},
        )
    )
    house = charger.loop.main_fuse.meter.house
    house.set_load((1.0, 1.0, 1.0))
    run = asyncio.create_task(charger.run())
    profile_dir = tempfile.mkdtemp(prefix="chargectl-chromium-")
    driver = None
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await asyncio.wait_for(charger.web_ready.wait(), 10)  # it starts after the boot
        driver = await asyncio.to_thread(_driver, profile_dir)
        page = Page(driver, shots)
        await page.do(driver.get, f"http://127.0.0.1:{port}/")
        await csms.call(CP, call.RemoteStartTransaction(id_tag="FUSE-TAG", connector_id=1))
        await page.wait_text("headline-1", "Charging 16 A", 20)
        house.set_load((1.0, 21.5, 1.0))
        shown_s = await page.wait_text("limit-1", "0 A — main fuse: L2 at 21.5 A of 25 A", 5)
        await page.wait_text("headline-1", "Paused — the house needs the main fuse", 2)
        await page.shot("fuse-paused")
        return shown_s
    finally:
        if driver is not None:
            await asyncio.to_thread(driver.quit)
        shutil.rmtree(profile_dir, ignore_errors=True)
        charger.stop()
        await asyncio.wait_for(run, 20)
        await csms.close()


@pytest.mark.slow
def test_the_page_says_the_main_fuse_sets_the_offer(tmp_path):
    shots = ARTIFACTS / "fuse"
    shots.mkdir(parents=True, exist_ok=True)
    shown_s = asyncio.run(asyncio.wait_for(_story(tmp_path, shots), 90))
    assert shown_s < 5
