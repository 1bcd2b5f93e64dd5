"""Issue 13: the CSMS link panel's facts, the last message sent and received and the recent
security events, in `chargectl status --json` and the dashboard's /api/status alike."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocpp.v16 import call

from controller.status import render
from tests.web.webrig import CP, Browser, running


async def _status_json(tmp_path: Path) -> dict[str, Any]:
    cfg = tmp_path / "status.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [state]
        dir = "{tmp_path / "state"}"
        [[connector]]
        id = 1
        driver = "sim"
        """)
    )
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "controller", "status", "--json", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "CHARGECTL_ENV_FILE": os.devnull},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _at(iso: str) -> datetime:
    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert t.tzinfo is not None
    return t


async def test_status_and_page_show_last_sent_last_received_and_security_events(tmp_path):
    async with running(tmp_path) as (csms, charger):
        before = datetime.now(UTC)
        await asyncio.sleep(0.05)
        # A request from the CSMS: received by the charger, and its answer sent.
        await csms.call(CP, call.GetConfiguration(key=["HeartbeatInterval"]))
        status = await _status_json(tmp_path)
        link = status["csms"]
        assert link["frames_sent"] >= 2  # the boot, its statuses, the answer
        assert _at(link["last_sent"]) >= before
        assert _at(link["last_received"]) >= before
        # Existing fields stay as they were: only fields are added.
        assert {"url", "state", "queued_messages", "frames_received", "frames_rejected"} <= set(
            link
        )
        kinds = [e["kind"] for e in link["security_events"]]
        assert kinds == ["StartupOfTheDevice"]  # raised once the boot was accepted
        startup = link["security_events"][0]
        assert startup["count"] == 1 and _at(startup["time"]) <= _at(link["last_sent"])

        # A run of one kind is one entry with its count and the last time.
        charger.ocpp.delivery.security_event("InvalidCentralSystemCertificate", "self-signed")
        charger.ocpp.delivery.security_event("InvalidCentralSystemCertificate", "self-signed")
        page = (await Browser(charger.web.url).get("/api/status")).json()["csms"]
        last = page["security_events"][-1]
        assert last["kind"] == "InvalidCentralSystemCertificate"
        assert last["count"] == 2 and last["info"] == "self-signed"
        assert page["frames_sent"] >= link["frames_sent"]
        assert _at(page["last_sent"]) >= _at(link["last_sent"])

        text = render(charger.status_document())
        assert "  last sent 20" in text and "last received 20" in text  # ISO times
        assert "security event " in text and "InvalidCentralSystemCertificate (2 times)" in text


async def test_the_page_shows_the_link_panel_fields():
    static = Path(__file__).resolve().parents[2] / "controller" / "web" / "static"
    html = (static / "index.html").read_text()
    js = (static / "app.js").read_text()
    assert 'id="security"' in html
    assert "Last message sent" in js and "doc.csms.last_sent" in js
    assert "doc.csms.security_events" in js


async def test_the_chart_point_agrees_with_the_status_document(tmp_path):
    """The feed keeps a cheaper subset of the document every second while nobody looks."""
    async with running(tmp_path) as (csms, charger):
        await csms.call(CP, call.RemoteStartTransaction(id_tag="CHART-TAG-1", connector_id=1))
        for _ in range(100):
            doc = charger.status_document()
            if doc["connectors"][0]["transaction"] and doc["connectors"][0]["drawn_a"]:
                break
            await asyncio.sleep(0.1)
        point = charger.controls.chart_point()
        doc = charger.status_document()
        for p, c in zip(point["connectors"], doc["connectors"], strict=True):
            assert p["id"] == c["id"] and p["offered_a"] == c["offered_a"]
            assert p["drawn_a"] == c["drawn_a"] and p["drawn_a"]
            assert p["transaction"]["id_tag"] == c["transaction"]["id_tag"] == "CHART-TAG-1"
        assert point["csms"]["state"] == doc["csms"]["state"]
        assert point["csms"]["frames_received"] == doc["csms"]["frames_received"]
        # A tick with nobody listening keeps the chart's point and the tag to mask in logs.
        feed = charger.web.feed
        before = len(feed.history.points[1][0])
        feed.observe()
        assert len(feed.history.points[1][0]) == before + 1
        assert feed.mask("card CHART-TAG-1 presented") == "card CH•••••••-1 presented"
