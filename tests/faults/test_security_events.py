"""Repeated 401s (issue 9, item 15): security events are coalesced and bounded, and the
transaction messages queued meanwhile reach the CSMS first."""

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import make_settings, running

from controller.ocpp.outbox import OcppDb

SECURITY = "SecurityEventNotification"


def _security_rows(db):
    rows = []
    while (msg := db.peek()) is not None:
        rows.append(msg)
        db.ack(msg.seq)
    return rows


def test_a_thousand_repeats_make_one_queued_event_and_the_queue_is_bounded(tmp_path):
    db = OcppDb(tmp_path / "ocpp.sqlite")
    for i in range(1000):
        db.enqueue_security_event(
            "FailedToAuthenticateAtCentralSystem", f"2026-01-01T00:00:{i % 60:02d}.000Z", "HTTP 401"
        )
    for i in range(40):
        db.enqueue_security_event(f"Kind{i}", "2026-01-01T00:01:00.000Z", None)
    db.enqueue("StopTransaction", {"meter_stop": 1, "timestamp": "2026-01-01T00:02:00.000Z"}, "k")
    assert db.pending() == 16 + 1
    rows = _security_rows(db)
    assert rows[0].action == "StopTransaction"  # queued last, sent first
    kinds = [r.payload["type"] for r in rows[1:]]
    assert kinds == [f"Kind{i}" for i in range(24, 40)]  # the newest 16, in order
    db.close()

    db = OcppDb(tmp_path / "other.sqlite")
    for i in range(1000):
        db.enqueue_security_event("FailedToAuthenticateAtCentralSystem", f"t{i}", "HTTP 401")
    (only,) = _security_rows(db)
    assert only.payload["timestamp"] == "t999"
    assert only.payload["tech_info"] == "HTTP 401 (1000 times since t0)"
    db.close()


def test_repeated_401s_queue_one_event_behind_the_transaction(tmp_path):
    refusals = 0
    calls = []
    booted = asyncio.Event()

    def process_request(connection, request):
        nonlocal refusals
        if refusals < 8:
            refusals += 1
            return connection.respond(401, "go away\n")
        return None

    async def handler(ws):
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in ws:
                msg = json.loads(text)
                if msg[0] != 2:
                    continue
                calls.append(msg)
                payload = {}
                if msg[2] == "BootNotification":
                    payload = {"status": "Accepted", "currentTime": msg_time(), "interval": 300}
                elif msg[2] == "StartTransaction":
                    payload = {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}
                elif msg[2] == SECURITY:
                    booted.set()
                await ws.send(json.dumps([3, msg[1], payload]))

    def msg_time():
        return "2026-01-01T00:00:00Z"

    async def main():
        server = await websockets.serve(
            handler,
            "127.0.0.1",
            0,
            process_request=process_request,
            subprotocols=[websockets.Subprotocol("ocpp1.6")],
        )
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        settings = make_settings(url, tmp_path, free_vend_id_tag="FREE", password="pw-pw-pw-pw")
        try:
            async with running(settings, max_backoff_s=0.2) as charger:
                while refusals < 8:
                    await asyncio.sleep(0.05)
                queued = charger.ocpp.db.pending()
                await asyncio.wait_for(booted.wait(), 30)
                await asyncio.sleep(1)  # anything else queued would go out now
                return queued
        finally:
            server.close()

    queued = asyncio.run(asyncio.wait_for(main(), 90))
    # Offline: the StartTransaction of the free-vend session plus one coalesced event.
    assert queued <= 2
    actions = [c[2] for c in calls]
    assert "StartTransaction" in actions
    failed = [c for c in calls if c[2] == SECURITY and c[3]["type"].startswith("FailedToAuth")]
    assert len(failed) == 1
    assert "times since" in failed[0][3]["techInfo"]
    assert actions.index("StartTransaction") < actions.index(SECURITY)
