"""`kill -9` of a 2.0.1 station mid-charge while the CSMS is unreachable, then a restart,
against the strict ocpp-rpc CSMS (ocpp2.0.1): the cut transaction ends with PowerLoss, and
every TransactionEvent reaches the CSMS once, in order, seqNo without gaps."""

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from service_proc import spawn
from strict_csms import StrictCsms

CP = "CS-K9-201"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _config(tmp_path, url):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [ocpp]
        version = "2.0.1"
        url = "{url}"
        charge_point_id = "{CP}"
        free_vend_id_tag = "FREE"
        max_reconnect_interval_s = 1
        [state]
        dir = "{tmp_path / "state"}"
        [web]
        enabled = false
        [simulator]
        ev_response_s = 0.3
        [[connector]]
        id = 1
        driver = "sim"
        """)
    )
    return cfg


def _is(event_type):
    return lambda p: p["eventType"] == event_type


async def _story(tmp_path):
    async with StrictCsms.start("ocpp2.0.1") as csms:
        cfg = _config(tmp_path, csms.url)
        proc = await spawn(cfg)
        try:
            started = await csms.wait_for_call("TransactionEvent", _is("Started"), 30)
            assert started["payload"]["triggerReason"] in ("Authorized", "CablePluggedIn")
            await csms.wait_connected(CP, 10)
            r = await csms.call(
                CP,
                "SetVariables",
                {
                    "setVariableData": [
                        {
                            "attributeValue": "1",
                            "component": {"name": "SampledDataCtrlr"},
                            "variable": {"name": "TxUpdatedInterval"},
                        }
                    ]
                },
            )
            assert r["setVariableResult"][0]["attributeStatus"] == "Accepted"
            mark = len(csms.events)
            await csms.wait_for_call(
                "TransactionEvent", lambda p: p["triggerReason"] == "MeterValuePeriodic", 10, mark
            )
            await asyncio.sleep(0.3)  # its answer reaches the station
            await csms.set_password("not-the-stations")
            await csms.close_connection(CP)
            await asyncio.sleep(4)  # periodic events queue up
            proc.kill()
            await proc.wait()
            await csms.set_password(None)
            proc = await spawn(cfg)
            await csms.wait_for_call("TransactionEvent", _is("Ended"), 30)
            await asyncio.sleep(1)
        finally:
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 20)
        return csms


@pytest.mark.slow
def test_kill9_while_offline_loses_no_transaction_event(tmp_path):
    csms = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert csms.violations == [], csms.violations
    events = [c["payload"] for c in csms.calls("TransactionEvent")]
    # one transaction: the car of the cut session is still plugged in, nothing new starts
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    ended = events[-1]
    assert [e["seqNo"] for e in events] == list(range(len(events)))  # once each, no gap
    assert ended["eventType"] == "Ended"
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert ended["offline"] is True
    queued = [e for e in events[1:] if e.get("offline")]
    assert len(queued) >= 3  # the outage's periodic events, then the Ended
    assert len(csms.calls("BootNotification")) == 2
