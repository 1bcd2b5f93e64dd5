"""The seed story in a real headless Chromium: what a person sees on the charger's page.

`chargectl run` is the real service process, the CSMS a real OCPP peer over a websocket, and
the page is loaded from the service by Debian's chromium through chromedriver. Screenshots of
each step are kept in build/test-artifacts/web (or $CHARGECTL_ARTIFACTS).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from ocpp.v16 import call

from controller.demo import PAUSE_PROFILE, RESUME_PROFILE
from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CP = "CP-BROWSER"
PASSWORD = "garage-door-42"
ARTIFACTS = Path(os.environ.get("CHARGECTL_ARTIFACTS", "build/test-artifacts")) / "web"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
        "chromium-driver; .ci/run installs them)",
    ),
]


def _config(tmp_path: Path, url: str, port: int) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            [ocpp]
            url = "{url}"
            charge_point_id = "{CP}"
            [state]
            dir = "{tmp_path / "state"}"
            [[connector]]
            id = 1
            driver = "sim"
            max_current_a = 32
            [simulator]
            plugged_in = true
            ev_max_current_a = 32
            ev_response_s = 0.5
            ev_sleep_after_pause_s = 0
            [pilot]
            min_pause_s = 5
            [web]
            listen = "127.0.0.1:{port}"
            password = "{PASSWORD}"
            """
        )
    )
    return cfg


def _driver(profile_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile_dir}",
        "--window-size=1000,1900",
        # Any name other than loopback fails at once: the page must need nothing else.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # An explicit driver: Selenium Manager would otherwise try to download one.
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


# Requests the page's own policy (CSP) blocks never reach the network log; this records them.
CSP_WATCH = (
    "window.blockedByCsp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " (e) => window.blockedByCsp.push(e.blockedURI + ' (' + e.violatedDirective + ')'));"
)


class Page:
    def __init__(self, driver, shots: Path) -> None:
        self.d = driver
        self.shots = shots

    def text(self, element_id: str) -> str:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )

        try:
            return self.d.find_element("id", element_id).text
        except (NoSuchElementException, StaleElementReferenceException):
            return ""  # re-rendered between finding and reading: the next poll reads it

    async def type_into(self, element_id: str, text: str) -> None:
        t0 = time.monotonic()
        el = await self.do(self.d.find_element, "id", element_id)
        while not await self.do(el.is_displayed):
            assert time.monotonic() - t0 < 5, f"#{element_id} never shown"
            await asyncio.sleep(0.05)
        await self.do(el.clear)
        await self.do(el.send_keys, text)

    async def wait_text(self, element_id: str, prefix: str, timeout_s: float) -> float:
        """Seconds until the element's text starts with `prefix`."""
        t0 = time.monotonic()
        while True:
            seen = await asyncio.to_thread(self.text, element_id)
            if seen.startswith(prefix):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout_s:
                raise AssertionError(f"#{element_id}: wanted {prefix!r}, page shows {seen!r}")
            await asyncio.sleep(0.05)

    async def shot(self, name: str) -> None:
        await asyncio.to_thread(self.d.save_screenshot, str(self.shots / f"{name}.png"))

    async def do(self, fn, *args):
        return await asyncio.to_thread(fn, *args)


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


TAKEN_AT = "2026-03-04T05:06:07Z"
PWM_FIX = "add 'dtoverlay=pwm,pin=18,func=2' to /boot/firmware/config.txt and reboot"


def _last_check_hw(state_dir: Path) -> None:
    """What an earlier `chargectl check-hw` left for the dashboard: one row failing."""
    from datetime import datetime

    from controller import hardware_checks
    from hw.probe import ProbeResult

    rows = [
        ProbeResult("connector 1: meter (sdm630)", True, "230 V, 1234.5 kWh"),
        ProbeResult("connector 1: pilot PWM (sysfs)", False, "no PWM block", PWM_FIX),
    ]
    state_dir.mkdir(parents=True, exist_ok=True)
    doc = hardware_checks.document(rows, datetime.fromisoformat(TAKEN_AT))
    assert hardware_checks.save(state_dir, doc) is None


async def _hardware_panel(page: Page, driver, state_dir: Path) -> None:
    """The last check-hw results with their time and the failing row's fix; without results,
    how to get them."""
    await page.wait_text("hw-checks-taken", "Last chargectl check-hw:", 5)
    panel = await page.do(page.text, "hardware")
    shown = await page.do(driver.execute_script, f"return new Date('{TAKEN_AT}').toLocaleString()")
    assert f"Last chargectl check-hw: {shown} — 1 of 2 failed" in panel, panel
    assert "FAIL connector 1: pilot PWM (sysfs): no PWM block" in panel
    assert f"Fix: {PWM_FIX}" in panel and "OK connector 1: meter (sdm630)" in panel
    await page.shot("0-hardware-checks")
    (state_dir / "check-hw.json").unlink()
    t0 = time.monotonic()
    while "No hardware check results yet: run `chargectl check-hw` to refresh" not in panel:
        assert time.monotonic() - t0 < 5, panel
        await asyncio.sleep(0.1)
        panel = await page.do(page.text, "hardware")


async def _listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert time.monotonic() < deadline, "the dashboard never listened"
            await asyncio.sleep(0.05)
            continue
        w.close()
        return


async def _link_panel(page: Page) -> None:
    """Issue 13: the link panel shows the last message sent and the security events."""
    t0 = time.monotonic()
    while True:
        csms_text = await asyncio.to_thread(page.text, "csms")
        events = await asyncio.to_thread(page.text, "security")
        sent = csms_text.partition("Last message sent")[2].strip().splitlines()
        if sent and sent[0] != "none since the service started" and "StartupOfTheDevice" in events:
            break
        assert time.monotonic() - t0 < 10, (csms_text, events)
        await asyncio.sleep(0.1)
    await page.shot("00-link-panel")


async def _story(tmp_path: Path, shots: Path) -> dict[str, float]:
    csms = DemoCsms()
    url = await csms.start()
    port = free_port()
    cfg = _config(tmp_path, url, port)
    _last_check_hw(tmp_path / "state")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "controller", "run", "--config", str(cfg),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    measured: dict[str, float] = {}
    profile_dir = tempfile.mkdtemp(prefix="chargectl-chromium-")
    driver = None
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        await _listening(port)  # the dashboard starts once the boot is out
        driver = await asyncio.to_thread(_driver, profile_dir)
        page = Page(driver, shots)
        base = f"http://127.0.0.1:{port}"
        await page.do(
            driver.execute_cdp_cmd, "Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH}
        )
        await page.do(driver.get, base + "/")
        await page.wait_text("headline-1", "Car connected — waiting for authorisation", 10)
        await _hardware_panel(page, driver, tmp_path / "state")
        await _link_panel(page)

        # 1. The CSMS starts a session: the page says what the car is offered.
        mark = len(csms.received)
        await csms.call(CP, call.RemoteStartTransaction(id_tag="SEED-TAG-77", connector_id=1))
        start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
        tx_id = start.payload["_assigned_transaction_id"]
        await page.wait_text("headline-1", "Charging 32 A", 15)
        await page.wait_text("limit-1", "32 A — connector rating", 2)
        assert "SEED-TAG-77" not in await page.do(page.text, "connector-1")  # masked
        await page.shot("1-charging-32A")

        # 2. The pause profile: on the page within 2 s of the CSMS's answer.
        resp = await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**PAUSE_PROFILE, "transactionId": tx_id}
            ),
        )
        assert resp.status == "Accepted"
        measured["pause_shown_s"] = await page.wait_text(
            "headline-1", "Paused by the back office — profile 1001, stack level 1", 2.0
        )
        await page.wait_text("limit-1", "0 A — profile 1001, stack level 1", 1)
        await page.shot("2-paused-by-back-office")

        # 3. The resume profile: 16 A, and the page names profile 1002.
        await asyncio.sleep(5)
        resp = await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**RESUME_PROFILE, "transactionId": tx_id}
            ),
        )
        assert resp.status == "Accepted"
        await page.wait_text("limit-1", "16 A — profile 1002", 2.0)
        measured["resume_charging_s"] = await page.wait_text("headline-1", "Charging 16 A", 30)
        await asyncio.sleep(2.5)  # the car follows; the picture shows it drawing
        await page.shot("3-resumed-16A")

        # 4. Controls need the password; a wrong one is refused.
        assert await page.do(lambda: driver.find_element("id", "actions").is_displayed()) is False
        await page.type_into("password", "not-the-password")
        await page.do(driver.find_element("css selector", "#login button").click)
        await page.wait_text("message", "Wrong password", 5)
        assert await page.do(lambda: driver.find_element("id", "actions").is_displayed()) is False
        await page.shot("4-wrong-password")
        await page.type_into("password", PASSWORD)
        await page.do(driver.find_element("css selector", "#login button").click)
        await page.wait_text("message", "Logged in", 5)
        await page.type_into("cap", "10")
        await page.do(driver.find_element("css selector", "#cap-form button").click)
        await page.wait_text("limit-1", "10 A — local cap on this charger", 3)
        await page.wait_text("headline-1", "Charging 10 A", 15)
        await page.shot("5-local-cap-10A")

        # The transaction stayed open through all of it.
        assert not [r for r in csms.received if r.action == "StopTransaction"]
        # The page asked nothing of anyone but the charger.
        urls = await page.do(_requests, driver)
        # (chrome:// is the browser's own new-tab page, loaded from inside the binary.)
        network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
        foreign = [u for u in network if not u.startswith(base + "/")]
        assert base + "/static/uPlot.iife.min.js" in network and base + "/events" in network
        assert not foreign, foreign
        # A request the page's own policy blocks never reaches the network log: counted here.
        assert await page.do(driver.execute_script, "return window.blockedByCsp") == []

        # On a phone screen.
        await page.do(driver.set_window_size, 390, 1600)
        await asyncio.sleep(1.5)
        await page.shot("6-phone")

        status = Path(f"/proc/{proc.pid}/status").read_text()
        measured["service_peak_rss_mb"] = (
            int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) / 1024
        )
    finally:
        if driver is not None:
            await asyncio.to_thread(driver.quit)
        shutil.rmtree(profile_dir, ignore_errors=True)
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log = (await proc.stdout.read()).decode()
        (shots / "service.log").write_text(log)
        await csms.close()
    assert proc.returncode == 0, log
    assert "Traceback" not in log, log
    return measured


def test_seed_story_in_a_real_browser(tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    measured = asyncio.run(asyncio.wait_for(_story(tmp_path, ARTIFACTS), 180))
    print("measured:", measured)
    assert measured["pause_shown_s"] < 2.0
    for name in ("1-charging-32A", "2-paused-by-back-office", "3-resumed-16A", "5-local-cap-10A"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
