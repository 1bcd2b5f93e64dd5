"""The dashboard's controls clicked in a real headless Chromium, as the owner of the charger
would use them: log in, present a tag, cap the current, pause, resume, stop.

One charger (with its embedded CSMS, a real OCPP peer over a websocket) and one browser serve
all the steps below, which run in file order as one story: each step starts where the one
before left the charger, and a failed step skips the rest. Every click is checked three ways:
what the page shows, what the charger reports (the document `chargectl status --json`
prints), and what the simulated car reads on its pilot line or the CSMS received. Screenshots
of each step are kept in build/test-artifacts/web (or $CHARGECTL_ARTIFACTS) as controls-*.png.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from controller.app import Charger
from controller.demo.csms import DemoCsms
from controller.demo.csms_core import Received
from hw.base import PilotMode
from hw.sim_ev import SimulatedEv
from tests.web.test_web_browser import ARTIFACTS, CSP_WATCH, Page, _driver, _requests
from tests.web.test_web_browser import pytestmark as browser_marks
from tests.web.webrig import PASSWORD, running, until

pytestmark = [*browser_marks, pytest.mark.asyncio(loop_scope="module")]

TAG = "WEB-TAG-0042"
MIN_PAUSE_S = 5  # webrig's [pilot] min_pause_s


@dataclass
class Rig:
    csms: DemoCsms
    charger: Charger
    page: Page
    base: str
    done: list[str] = field(default_factory=list)
    tx_id: int | None = None
    paused_at: float | None = None

    @property
    def ev(self) -> SimulatedEv:
        ev = self.charger.hardware[1].ev
        assert isinstance(ev, SimulatedEv)
        return ev

    def status(self) -> dict[str, Any]:
        """Connector 1 in the document `chargectl status --json` prints."""
        connector: dict[str, Any] = self.charger.status_document()["connectors"][0]
        return connector

    def sent(self, action: str, since: int = 0) -> list[Received]:
        return [r for r in self.csms.received[since:] if r.action == action]

    async def press(self, css: str, message: str) -> None:
        """Click a control and wait for the page's answer to this click (not an earlier one)."""
        d = self.page.d
        await self.page.do(d.execute_script, "document.getElementById('message').textContent=''")
        await self.page.do(d.find_element("css selector", css).click)
        await self.page.wait_text("message", message, 5)

    async def showing(self, **want: bool) -> None:
        """Wait until each element is shown (True) or hidden (False): the page asks the
        charger for its session after a login's answer, and only then swaps the forms."""
        d = self.page.d

        def seen() -> dict[str, bool]:
            return {k: d.find_element("id", k).is_displayed() for k in want}

        t0 = time.monotonic()
        while (now := await self.page.do(seen)) != want:
            assert time.monotonic() - t0 < 5, f"wanted {want}, page shows {now}"
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with running(tmp_path_factory.mktemp("controls")) as (csms, charger):
        await until(lambda: charger.web is not None and charger.web.url, timeout_s=10)
        assert charger.web is not None and charger.web.url is not None
        profile_dir = tempfile.mkdtemp(prefix="chargectl-chromium-")
        driver = await asyncio.to_thread(_driver, profile_dir)
        try:
            yield Rig(csms, charger, Page(driver, ARTIFACTS), charger.web.url.rstrip("/"))
        finally:
            await asyncio.to_thread(driver.quit)
            shutil.rmtree(profile_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _in_order(request: pytest.FixtureRequest, rig: Rig) -> Iterator[None]:
    """The steps are one story, each starting where the one before left the charger: after a
    failed (or deselected) step the rest would only fail for its sake."""
    steps = [name for name in globals() if name.startswith("test_")]
    before = steps[: steps.index(request.node.name)]
    if rig.done != before:
        missing = next(s for s in before if s not in rig.done)
        pytest.skip(f"needs the step before it: {missing} did not pass (run the whole file)")
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        rig.done.append(request.node.name)


async def test_controls_are_refused_until_the_right_password(rig: Rig) -> None:
    page, d = rig.page, rig.page.d
    await page.do(d.execute_cdp_cmd, "Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
    await page.do(d.get, rig.base + "/")
    await page.wait_text("headline-1", "Car connected — waiting for authorisation", 10)
    await rig.showing(login=True, actions=False)
    # A hidden button pressed anyway (as a script or an old tab would): the charger refuses it.
    await page.do(d.execute_script, "document.getElementById('pause').click()")
    await page.wait_text("message", "log in first", 5)
    assert rig.charger.overrides.get(1).paused is False
    await page.shot("controls-1-before-login")

    await page.type_into("password", "not-the-password")
    await rig.press("#login button", "Wrong password")
    assert "error" in await page.do(lambda: d.find_element("id", "message").get_attribute("class"))
    await rig.showing(login=True, actions=False)
    await page.shot("controls-2-wrong-password")

    await page.type_into("password", PASSWORD)
    await rig.press("#login button", "Logged in")
    await rig.showing(login=False, actions=True)
    await page.shot("controls-3-logged-in")


async def test_a_tag_presented_on_the_page_starts_the_session(rig: Rig) -> None:
    page = rig.page
    mark = len(rig.csms.received)
    await page.type_into("tag", TAG)
    await rig.press("#tag-form button", "Tag accepted")
    start = await rig.csms.wait_for("StartTransaction", timeout_s=20, since=mark)
    assert [a.payload["id_tag"] for a in rig.sent("Authorize", mark)] == [TAG]
    assert start.payload["id_tag"] == TAG and start.payload["connector_id"] == 1
    rig.tx_id = start.payload["_assigned_transaction_id"]
    await page.wait_text("headline-1", "Charging 32 A", 15)
    await page.wait_text("limit-1", "32 A — connector rating", 2)
    card = await page.do(page.text, "connector-1")
    assert f"{rig.tx_id} · tag WE••••••••42" in card and TAG not in card, card
    await until(lambda: rig.ev.offered_a == 32.0 and rig.ev.drawn_current_a > 30, 10)
    await page.shot("controls-4-tag-started-32A")


async def test_a_local_cap_lowers_the_offer_and_is_named(rig: Rig) -> None:
    page = rig.page
    await page.type_into("cap", "10")
    await rig.press("#cap-form button", "Done")
    await page.wait_text("limit-1", "10 A — local cap on this charger", 3)
    await page.wait_text("headline-1", "Charging 10 A", 15)
    s = rig.status()
    assert (s["offered_a"], s["limit_source"], s["local"]["cap_a"]) == (10.0, "local_cap", 10.0)
    assert rig.ev.pilot_mode is PilotMode.PWM and rig.ev.offered_a == 10.0
    await until(lambda: rig.ev.drawn_current_a <= 10.0, 10)  # the car follows the pilot
    await page.shot("controls-5-local-cap-10A")


async def test_pause_stops_the_offer_at_once_and_keeps_the_transaction(rig: Rig) -> None:
    page = rig.page
    t0 = time.monotonic()
    await rig.press("#pause", "Done")
    rig.paused_at = t0
    await until(lambda: rig.ev.offered_a == 0.0, timeout_s=2.0, step_s=0.01)
    pilot_off_s = time.monotonic() - t0
    await page.wait_text("headline-1", "Paused on this charger", 3)
    await page.wait_text("limit-1", "0 A — paused on this charger", 1)
    s = rig.status()
    assert (s["offered_a"], s["limit_source"], s["local"]["paused"]) == (0.0, "local_cap", True)
    assert rig.ev.pilot_mode is not PilotMode.PWM  # no current offered on the wire
    tx = rig.charger.ocpp.active_transaction(1)
    assert tx is not None and tx.transaction_id == rig.tx_id
    print(f"click to pilot off: {pilot_off_s:.2f} s")
    assert pilot_off_s < 1.0
    await until(lambda: not rig.ev.contactor_closed and rig.ev.drawn_current_a == 0.0, 10)
    await page.shot("controls-6-paused")


async def test_resume_charges_again_after_the_pilots_minimum_pause(rig: Rig) -> None:
    page = rig.page
    assert rig.paused_at is not None
    await rig.press("#resume", "Done")
    await page.wait_text("headline-1", "Charging 10 A", 20)
    resumed_s = time.monotonic() - rig.paused_at
    print(f"pause click to charging again: {resumed_s:.2f} s")
    assert resumed_s >= MIN_PAUSE_S - 0.5
    assert rig.ev.offered_a == 10.0 and rig.status()["local"]["paused"] is False
    await page.wait_text("limit-1", "10 A — local cap on this charger", 1)
    await page.shot("controls-7-resumed-10A")


async def test_another_tag_during_the_session_is_refused(rig: Rig) -> None:
    page = rig.page
    mark = len(rig.csms.received)
    await page.type_into("tag", "SOMEONE-ELSE-7")
    await rig.press("#tag-form button", "Tag refused")
    tx = rig.charger.ocpp.active_transaction(1)
    assert tx is not None and tx.transaction_id == rig.tx_id and tx.id_tag == TAG
    assert not rig.sent("StopTransaction", mark) and not rig.sent("StartTransaction", mark)
    assert rig.ev.offered_a == 10.0
    await page.shot("controls-8-other-tag-refused")


async def test_stop_asks_first_then_ends_the_transaction_with_reason_local(rig: Rig) -> None:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page, d = rig.page, rig.page.d

    def answer(accept: bool) -> str:
        d.find_element("id", "stop").click()
        alert = WebDriverWait(d, 5).until(expected_conditions.alert_is_present())
        text = alert.text
        alert.accept() if accept else alert.dismiss()
        return text

    mark = len(rig.csms.received)
    assert await page.do(answer, False) == "Stop the transaction?"
    assert rig.charger.ocpp.active_transaction(1) is not None  # "Cancel" changed nothing

    await page.do(d.execute_script, "document.getElementById('message').textContent=''")
    await page.do(answer, True)
    await page.wait_text("message", "Done", 5)
    stop = await rig.csms.wait_for("StopTransaction", timeout_s=20, since=mark)
    assert stop.payload["reason"] == "Local" and stop.payload["transaction_id"] == rig.tx_id
    assert len(rig.sent("StopTransaction", mark)) == 1
    await page.wait_text("headline-1", "Car connected — waiting for authorisation", 5)
    await page.wait_text("limit-1", "0 A — no transaction", 1)
    assert rig.status()["transaction"] is None
    await until(lambda: rig.ev.offered_a == 0.0 and not rig.ev.contactor_closed, 5)
    assert rig.ev.pilot_mode is PilotMode.X1
    await page.shot("controls-9-stopped-local")


async def test_the_page_asked_nothing_of_anyone_but_the_charger(rig: Rig) -> None:
    urls = await rig.page.do(_requests, rig.page.d)
    network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
    # The log saw the clicks themselves, so an empty "foreign" list means something.
    for action in ("pause", "resume", "cap", "tag", "stop"):
        assert f"{rig.base}/api/connectors/1/{action}" in network, action
    foreign = [u for u in network if not u.startswith(rig.base + "/")]
    assert not foreign, foreign
    # ...nor tried to: a request the CSP stopped in the browser is a broken page all the same.
    assert await rig.page.do(rig.page.d.execute_script, "return window.blockedByCsp") == []
