"""What the charger sends is schema-checked by the test suite (tests/conftest.py), not at run
time; what the CSMS answers is still checked at run time."""

import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import websockets
from ocpp.exceptions import TypeConstraintViolationError
from ocpp.v16 import call

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import CP, make_settings, running

from controller.demo.csms import DemoCsms
from controller.ocpp.session import Session
from tests.conftest import outgoing_problems


def test_the_suite_catches_an_invalid_message_the_charger_sends(tmp_path, outgoing_ocpp_checked):
    async def go():
        csms = DemoCsms()
        url = await csms.start()
        try:
            async with running(make_settings(url, tmp_path)) as charger:
                await csms.wait_for("StatusNotification", timeout_s=30)
                session = charger.ocpp.session
                assert session is not None
                # Not checked on the way out any more: the frame reaches the CSMS, whose own
                # schema check answers with a CALLERROR.
                answer = await session.call(
                    call.StatusNotification(
                        connector_id=1, error_code="NotAnErrorCode", status="Available"
                    )
                )
                return answer
        finally:
            await csms.close()

    answer = asyncio.run(asyncio.wait_for(go(), 60))
    assert answer is None  # the CSMS refused it (suppressed CALLERROR)
    assert len(outgoing_ocpp_checked) == 1
    assert outgoing_ocpp_checked[0].startswith("StatusNotification at errorCode")
    outgoing_ocpp_checked.clear()  # seen and expected: the test itself passes


def test_outgoing_problems_reads_the_ocpp_schemas():
    good = json.dumps([2, "1", "Heartbeat", {}])
    bad = json.dumps(
        [2, "2", "MeterValues", {"connectorId": 1, "meterValue": [{"sampledValue": []}]}]
    )
    assert outgoing_problems(good) == []
    assert any("timestamp" in p for p in outgoing_problems(bad))
    assert outgoing_problems(json.dumps([3, "1", {"anything": 1}])) == []
    assert outgoing_problems(json.dumps([2, "3", "NoSuchAction", {}])) != []


def test_an_invalid_answer_from_the_csms_is_still_rejected():
    """Heartbeat.conf with a number for currentTime: hostile input, checked at run time."""

    async def csms(ws):
        async for raw in ws:
            frame = json.loads(raw)
            await ws.send(json.dumps([3, frame[1], {"currentTime": 5}]))

    async def go():
        async with websockets.serve(csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
            port = server.sockets[0].getsockname()[1]
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/{CP}", subprotocols=["ocpp1.6"]
            ) as ws:
                host = SimpleNamespace(
                    maintenance=None,
                    auth=None,
                    frame_counted=lambda accepted: None,
                    frame_sent=lambda: None,
                )
                session = Session(host, CP, ws, timeout_s=5)  # type: ignore[arg-type]
                reader = asyncio.create_task(session.start())
                try:
                    with pytest.raises(TypeConstraintViolationError):
                        await session.call(call.Heartbeat(), suppress=False)
                    with pytest.raises(TypeConstraintViolationError):
                        await session.call(call.Heartbeat(), suppress=True)
                finally:
                    reader.cancel()

    asyncio.run(asyncio.wait_for(go(), 30))
