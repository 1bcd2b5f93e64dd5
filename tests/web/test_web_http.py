"""The dashboard over real HTTP on loopback, served by a running charger with an embedded CSMS."""

import asyncio
import email.utils
import hashlib
import json
import logging
import re
import socket
import time
from pathlib import Path

from ocpp.v16 import call
from prometheus_client.parser import text_string_to_metric_families

from controller.web.server import STATIC
from tests.web.webrig import PASSWORD, Browser, running, until

STATIC_DIR = Path(STATIC)


async def _login(b: Browser) -> str:
    r = await b.post("/api/login", {"password": PASSWORD})
    assert r.status == 200, r.body
    return r.json()["csrf"]


async def test_page_and_assets_ship_with_the_charger(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        b = Browser(charger.web.url)
        r = await b.get("/")
        assert r.status == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        # Dated per response (no timer renews a cached Date while nobody asks).
        dated = email.utils.parsedate_to_datetime(r.headers["date"])
        assert abs(dated.timestamp() - time.time()) < 60
        html = r.body.decode()
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs and all(ref.startswith("/static/") for ref in refs), refs
        assert "<script>" not in html  # no inline script: the CSP would block it
        for ref in refs:
            assert (await b.get(ref)).status == 200, ref
        js = (await b.get("/static/app.js")).body.decode()
        assert "http://" not in js and "https://" not in js
    # The vendored chart library is the one recorded, byte for byte.
    for line in (STATIC_DIR / "uPlot.sha256").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest
    assert "v1.6.32" in (STATIC_DIR / "uPlot.iife.min.js").read_text()[:100]


async def test_controls_need_a_login_a_csrf_token_and_our_own_origin(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        b = Browser(charger.web.url)
        assert (await b.post("/api/connectors/1/pause")).status == 401
        wrong = await b.post("/api/login", {"password": "not-the-password"})
        assert wrong.status == 401 and wrong.json() == {"error": "wrong password"}
        assert (await b.get("/api/session")).json()["logged_in"] is False
        foreign = await b.post("/api/login", {"password": PASSWORD}, origin="http://evil.example")
        assert foreign.status == 403
        assert (await b.post("/api/login", {"password": PASSWORD}, origin=None)).status == 403
        r = await b.post("/api/login", {"password": PASSWORD})
        assert r.status == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        csrf = r.json()["csrf"]
        assert (await b.post("/api/connectors/1/pause")).status == 403  # no token
        assert (await b.post("/api/connectors/1/pause", csrf="x" * 43)).status == 403
        evil = await b.post("/api/connectors/1/pause", csrf=csrf, origin="http://evil.example")
        assert evil.status == 403
        assert charger.overrides.get(1).paused is False  # none of those did anything
        assert (await b.post("/api/connectors/1/pause", csrf=csrf)).status == 200
        assert charger.overrides.get(1).paused is True
        await b.post("/api/logout")
        assert (await b.post("/api/connectors/1/resume", csrf=csrf)).status == 401


async def test_a_huge_body_is_refused_and_the_charger_carries_on(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        b = Browser(charger.web.url)
        host, port = charger.web.url.removeprefix("http://").rstrip("/").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST /api/login HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {b.base}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{".encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), 5)
        assert head.startswith(b"HTTP/1.1 413"), head
        writer.close()
        r = await b.post("/api/login", {"password": "no"})  # still answering
        assert r.status == 401
        assert charger.loop.healthy()


async def test_wrong_passwords_are_rate_limited(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        b = Browser(charger.web.url)
        for _ in range(5):
            assert (await b.post("/api/login", {"password": "guess-guess"})).status == 401
        r = await b.post("/api/login", {"password": PASSWORD})
        assert r.status == 429 and "wait a minute" in r.json()["error"]


async def test_without_a_password_the_page_shows_but_controls_are_off(tmp_path):
    async with running(tmp_path, password=None) as (_csms, charger):
        b = Browser(charger.web.url)
        assert (await b.get("/api/session")).json()["controls_enabled"] is False
        r = await b.post("/api/login", {"password": "anything-at-all"})
        assert r.status == 403 and "[web] password" in r.json()["error"]


async def test_local_controls_act_on_the_real_charger(tmp_path, caplog):
    caplog.set_level(logging.INFO)  # as `chargectl run` logs
    async with running(tmp_path) as (csms, charger):
        b = Browser(charger.web.url)
        csrf = await _login(b)
        unit = charger.loop.unit(1)
        # Present a tag: the CSMS authorises it and the session starts.
        mark = len(csms.received)
        r = await b.post("/api/connectors/1/tag", {"id_tag": "WEB-TAG-0042"}, csrf=csrf)
        assert r.status == 200 and r.json()["accepted"] is True
        start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
        assert start.payload["id_tag"] == "WEB-TAG-0042"
        # The CSMS's answers count as messages received; the page knows when the last came.
        await asyncio.sleep(1.2)
        seen = (await b.get("/api/status")).json()["csms_last_received"]
        assert seen is not None and abs(seen - time.time()) < 5
        await until(lambda: unit.status and unit.status.offered_a == 32.0)

        # Bad input: a clear error, nothing changed.
        r = await b.post("/api/connectors/1/cap", {"limit_a": 3}, csrf=csrf)
        assert r.status == 409 and "between 6 and 32 A" in r.json()["error"]
        r = await b.post("/api/connectors/1/cap", {"limit_a": "ten"}, csrf=csrf)
        assert r.status == 400 and "limit_a" in r.json()["error"]
        assert (await b.post("/api/connectors/9/pause", csrf=csrf)).status == 409
        assert (await b.post("/api/connectors/1/explode", csrf=csrf)).status == 404
        assert charger.overrides.get(1).cap_a is None

        r = await b.post("/api/connectors/1/cap", {"limit_a": 10}, csrf=csrf)
        assert r.status == 200
        await until(lambda: unit.status.offered_a == 10.0)
        doc = (await b.get("/api/status")).json()["connectors"][0]
        assert doc["limit_source"] == "local_cap" and doc["local"]["cap_a"] == 10.0
        page = (await b.get("/api/status")).json()
        assert any("WE••••••••42" in r["message"] for r in page["log"]), page["log"]
        assert "WEB-TAG-0042" not in json.dumps(page)  # idTag masked in the log lines too
        assert PASSWORD not in json.dumps(page) and page["config"]["web"]["password"] != PASSWORD
        saved = json.loads((tmp_path / "state" / "local.json").read_text())
        assert saved["1"]["cap_a"] == 10.0

        # Pause is immediate (next tick), the transaction stays open.
        t0 = time.monotonic()
        assert (await b.post("/api/connectors/1/pause", csrf=csrf)).status == 200
        await until(lambda: unit.target_a == 0.0, timeout_s=2.0, step_s=0.01)
        assert time.monotonic() - t0 < 1.0
        assert charger.ocpp.active_transaction(1) is not None
        # Resume obeys the pilot's minimum pause (5 s here) before offering again.
        assert (await b.post("/api/connectors/1/resume", csrf=csrf)).status == 200
        await until(lambda: unit.status.offered_a == 10.0, timeout_s=15)
        assert time.monotonic() - t0 >= 4.5

        mark = len(csms.received)
        assert (await b.post("/api/connectors/1/stop", csrf=csrf)).status == 200
        stop = await csms.wait_for("StopTransaction", timeout_s=20, since=mark)
        assert stop.payload["reason"] == "Local"
        r = await b.post("/api/connectors/1/stop", csrf=csrf)
        assert r.status == 409 and "no transaction" in r.json()["error"]


async def test_metrics_parse_as_prometheus_text(tmp_path):
    async with running(tmp_path) as (csms, charger):
        await csms.call("CP-WEB", call.RemoteStartTransaction(id_tag="M-TAG", connector_id=1))
        unit = charger.loop.unit(1)
        await until(lambda: unit.sample and max(unit.sample.current_a) > 30)
        b = Browser(charger.web.url)
        r = await b.get("/metrics")
        assert r.status == 200 and r.headers["content-type"].startswith("text/plain")
        samples = {}
        for fam in text_string_to_metric_families(r.body.decode()):
            for s in fam.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        c1 = (("connector", "1"),)
        assert samples[("chargectl_offered_current_amperes", c1)] == 32.0
        assert samples[("chargectl_drawn_current_amperes", c1)] > 30
        assert samples[("chargectl_energy_imported_watthours_total", c1)] >= 0
        assert samples[("chargectl_connector_state", (("connector", "1"), ("state", "C")))] == 1
        assert samples[("chargectl_connector_state", (("connector", "1"), ("state", "B")))] == 0
        assert samples[("chargectl_transaction_active", c1)] == 1
        assert samples[("chargectl_ocpp_connected", ())] == 1
        assert samples[("chargectl_ocpp_queue_length", ())] >= 0
        assert 0 <= samples[("chargectl_control_loop_tick_age_seconds", ())] < 5
        assert samples[("chargectl_connector_fault", c1)] == 0
        assert ("chargectl_build_info", (("version", charger.status_document()["version"]),)) in (
            samples
        )


async def _open_stream(url: str, rcvbuf: int | None = None):
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def _next_event(reader) -> dict:
    while True:
        line = await reader.readline()
        if line.startswith(b"data: "):
            return json.loads(line[6:])


async def test_event_stream_is_live_within_a_second(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        reader, writer = await _open_stream(charger.web.url)
        try:
            first = await asyncio.wait_for(_next_event(reader), 5)
            t0 = time.monotonic()
            second = await asyncio.wait_for(_next_event(reader), 3)
            third = await asyncio.wait_for(_next_event(reader), 3)
            assert time.monotonic() - t0 < 2.5
            assert first["connectors"][0]["id"] == 1
            assert second["t"] < third["t"] <= second["t"] + 1.5
            # The document's "now" is the charger's, at most a second old when it arrives.
            assert abs(third["t"] - time.time()) < 1.0
        finally:
            writer.close()


async def test_stalled_clients_cannot_delay_the_control_loop(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        stalled = [await _open_stream(charger.web.url, rcvbuf=1024) for _ in range(4)]
        live_reader, live_writer = await _open_stream(charger.web.url)
        gaps = []

        async def watch():
            last = charger.loop.last_tick_mono
            while True:
                await asyncio.sleep(0.02)
                now = charger.loop.last_tick_mono
                if now != last:
                    gaps.append(now - last)
                    last = now

        watcher = asyncio.create_task(watch())
        try:
            # Push until the stalled sockets' kernel buffers are full and their writers block.
            boxes = list(charger.web.feed._mailboxes)
            pushed = 0
            while sum(b.qsize() for b in boxes) < 4 and pushed < 20000:
                for _ in range(20):
                    charger.web.feed.sample()
                pushed += 20
                await asyncio.sleep(0.01)
            print("samples pushed until the stall:", pushed)
            # Each stalled client holds at most one pending sample, never a backlog.
            sizes = [box.qsize() for box in charger.web.feed._mailboxes]
            assert max(sizes) <= 1
            # ...and the stall was real: the stalled streams' writers are blocked with one waiting.
            assert sizes.count(1) >= 4, sizes
            assert charger.web.feed.clients == 5
            # Another browser still gets fresh data.
            ev = await asyncio.wait_for(_next_event(live_reader), 5)
            assert ev["connectors"][0]["id"] == 1
        finally:
            watcher.cancel()
            for _r, w in [*stalled, (live_reader, live_writer)]:
                w.close()
        # Ticks follow the drivers' poll interval (0.5 s for an idle pilot); a loop held up by a
        # stalled client would show gaps of seconds.
        bound_s = max(charger.loop.poll_interval_s(u) for u in charger.loop.units) + 0.25
        assert gaps and max(gaps) < bound_s, (max(gaps), bound_s)


async def test_a_busy_port_leaves_the_charger_running_without_the_page(tmp_path, caplog):
    blocker = socket.create_server(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    try:
        async with running(tmp_path, listen=f"127.0.0.1:{port}") as (_csms, charger):
            assert charger.web.url is None
            assert "dashboard not started" in caplog.text
            await until(lambda: charger.loop.healthy())
    finally:
        blocker.close()
