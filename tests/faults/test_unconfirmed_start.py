"""Transactions the CSMS has not accepted: retried forever, paused after a grace, out-of-range
ids answered instead of crashing the link, and free vend that respects a stop."""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocpp_helpers import make_settings, running
from scripted_csms import CallError, ScriptedCsms, default_answer

from controller.status import render

TOO_BIG = 2**63


def _status(status):
    return lambda p: p["connectorId"] == 1 and p["status"] == status


async def _configure(csms, **keys):
    for key, value in keys.items():
        r = await csms.call("ChangeConfiguration", {"key": key, "value": str(value)})
        assert r[0] == 3 and r[2]["status"] == "Accepted", r


def test_start_refused_is_retried_forever_and_the_car_pauses_after_the_grace(tmp_path):
    """Old code: after TransactionMessageAttempts CALLERRORs the StartTransaction was dropped,
    the car kept charging at 32 A with no transaction id, MeterValues were dropped and
    RemoteStop was rejected."""
    accept = asyncio.Event()

    def answer(action, payload):
        if action == "StartTransaction":
            if not accept.is_set():
                return CallError("InternalError", "database down")
            return {"transactionId": 555, "idTagInfo": {"status": "Accepted"}}
        return default_answer(action, payload)

    async def go():
        csms = ScriptedCsms(answer=answer)
        url = await csms.start()
        try:
            settings = make_settings(url, tmp_path, start_grace_s=8)
            async with running(settings) as charger:
                await csms.wait_for("StatusNotification", _status("Preparing"), 30)
                await _configure(
                    csms,
                    TransactionMessageAttempts=2,
                    TransactionMessageRetryInterval=1,
                    MeterValueSampleInterval=1,
                )
                r = await csms.call("RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
                assert r[2]["status"] == "Accepted"
                await csms.wait_for("StatusNotification", _status("Charging"), 20)
                mark = len(csms.calls)
                await csms.wait_for("StatusNotification", _status("SuspendedEVSE"), 20, since=mark)
                doc = charger.status_document()
                paused = doc["connectors"][0]
                text = render(doc)
                # Keep refusing well past the attempts: it must still be retried.
                while len(csms.of("StartTransaction")) < 5:
                    await asyncio.sleep(0.5)
                offered_while_refused = charger.loop.unit(1).status.offered_a
                accept.set()
                mark = len(csms.calls)
                await csms.wait_for("StatusNotification", _status("Charging"), 30, since=mark)
                await csms.wait_for(
                    "MeterValues", lambda p: p.get("transactionId") == 555, 20, since=mark
                )
                stop = await csms.call("RemoteStopTransaction", {"transactionId": 555})
                stopped, _ = await csms.wait_for("StopTransaction", timeout_s=20)
                return paused, text, offered_while_refused, stop, stopped, csms.connections
        finally:
            await csms.close()

    paused, text, offered, stop, stopped, connections = asyncio.run(asyncio.wait_for(go(), 120))
    assert "CSMS has not accepted" in paused["pause_reason"]
    assert "held back: paused: the CSMS has not accepted" in text
    assert paused["ocpp_status"] == "SuspendedEVSE"
    assert offered == 0.0
    assert stop[2]["status"] == "Accepted"
    assert stopped["transactionId"] == 555 and stopped["reason"] == "Remote"
    assert connections == 1


def test_out_of_range_ids_are_answered_not_a_reconnect_loop(tmp_path):
    """Old code: a StartTransaction answered with transactionId 2^63 overflowed SQLite, the
    session died and the charger reconnected and re-sent StartTransaction again and again."""
    big_answers = 3

    def answer(action, payload):
        nonlocal big_answers
        if action == "StartTransaction":
            if big_answers > 0:
                big_answers -= 1
                return {"transactionId": TOO_BIG, "idTagInfo": {"status": "Accepted"}}
            return {"transactionId": 777, "idTagInfo": {"status": "Accepted"}}
        return default_answer(action, payload)

    profile = {
        "chargingProfileId": TOO_BIG,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    }

    async def go():
        csms = ScriptedCsms(answer=answer)
        url = await csms.start()
        try:
            async with running(make_settings(url, tmp_path)) as charger:
                await csms.wait_for("StatusNotification", _status("Preparing"), 30)
                await _configure(
                    csms, TransactionMessageAttempts=2, TransactionMessageRetryInterval=1
                )
                await csms.call("RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
                await csms.wait_for("StartTransaction", lambda p: True, 30, since=0)
                while charger.ocpp.active_transaction(1) is None or (
                    charger.ocpp.active_transaction(1).transaction_id is None
                ):
                    await asyncio.sleep(0.2)
                tx_id = charger.ocpp.active_transaction(1).transaction_id
                set_profile = await csms.call(
                    "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
                )
                tx_profile = {
                    **profile,
                    "chargingProfileId": 5,
                    "chargingProfilePurpose": "TxProfile",
                    "transactionId": TOO_BIG,
                }
                set_tx_profile = await csms.call(
                    "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_profile}
                )
                clear = await csms.call("ClearChargingProfile", {"id": TOO_BIG})
                remote_stop = await csms.call("RemoteStopTransaction", {"transactionId": TOO_BIG})
                still = charger.ocpp.active_transaction(1)
                return (
                    tx_id,
                    len(csms.of("StartTransaction")),
                    set_profile,
                    set_tx_profile,
                    clear,
                    remote_stop,
                    still,
                    csms.connections,
                )
        finally:
            await csms.close()

    tx_id, starts, set_profile, set_tx_profile, clear, remote_stop, still, connections = (
        asyncio.run(asyncio.wait_for(go(), 90))
    )
    assert tx_id == 777
    assert starts == 4  # three out-of-range answers, retried on the same link
    assert connections == 1
    assert set_profile[0] == 4 and set_profile[2] == "PropertyConstraintViolation"
    assert set_tx_profile[0] == 4 and set_tx_profile[2] == "PropertyConstraintViolation"
    assert clear[0] == 3 and clear[2]["status"] == "Unknown"
    assert remote_stop[0] == 3 and remote_stop[2]["status"] == "Rejected"
    assert still is not None and still.transaction_id == 777


def test_free_vend_waits_for_a_new_plug_in_after_a_stop_across_a_restart(tmp_path):
    """Old code: the 'car still plugged in after a stop' mark lived only in memory, so after a
    restart free vend started a new transaction on the car the CSMS had just stopped."""

    async def go():
        csms = ScriptedCsms()
        url = await csms.start()
        try:
            settings = make_settings(url, tmp_path, free_vend_id_tag="FREE")
            async with running(settings):
                _, answer = await csms.wait_for("StartTransaction", timeout_s=30)
                await csms.wait_for("StatusNotification", _status("Charging"), 20)
                r = await csms.call(
                    "RemoteStopTransaction", {"transactionId": answer["transactionId"]}
                )
                assert r[2]["status"] == "Accepted"
                await csms.wait_for("StopTransaction", timeout_s=20)
                await csms.wait_for("StatusNotification", _status("Finishing"), 20)
                await asyncio.sleep(3)
            starts_before_restart = len(csms.of("StartTransaction"))
            mark = len(csms.calls)
            async with running(settings) as charger:
                await csms.wait_for("StatusNotification", _status("Finishing"), 30, since=mark)
                await asyncio.sleep(4)
                starts_after_restart = len(csms.of("StartTransaction"))
                offered = charger.loop.unit(1).status.offered_a
                ev = charger.hardware[1].ev
                ev.unplug()
                await csms.wait_for("StatusNotification", _status("Available"), 20, since=mark)
                ev.plug_in()
                await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
                await csms.wait_for("StatusNotification", _status("Charging"), 20, since=mark)
            return starts_before_restart, starts_after_restart, offered
        finally:
            await csms.close()

    before, after, offered = asyncio.run(asyncio.wait_for(go(), 120))
    assert before == 1
    assert after == 1  # no free-vend start on the same plug-in, even after the restart
    assert offered == 0.0


def test_with_the_link_down_the_grace_does_not_hold_the_car(tmp_path):
    """Offline the CSMS could not have answered: a session it paused for want of an accepted
    start charges on (OCPP's offline rules), its StartTransaction still queued."""

    def answer(action, payload):
        if action == "StartTransaction":
            return CallError("InternalError", "database down")
        return default_answer(action, payload)

    async def go():
        csms = ScriptedCsms(answer=answer)
        url = await csms.start()
        settings = make_settings(url, tmp_path, start_grace_s=8)
        async with running(settings) as charger:
            await csms.wait_for("StatusNotification", _status("Preparing"), 30)
            await _configure(csms, TransactionMessageRetryInterval=1)
            await csms.call("RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
            await csms.wait_for("StatusNotification", _status("Charging"), 20)
            while charger.ocpp.pause_reason(1) is None:
                await asyncio.sleep(0.2)
            while charger.loop.unit(1).status.offered_a > 0:
                await asyncio.sleep(0.2)
            await csms.close()
            while charger.ocpp.link_state == "booted":
                await asyncio.sleep(0.2)
            offered = 0.0
            for _ in range(100):
                offered = charger.loop.unit(1).status.offered_a
                if offered > 0:
                    break
                await asyncio.sleep(0.2)
            return offered, charger.ocpp.pause_reason(1), charger.ocpp.db.pending()

    offered, reason, pending = asyncio.run(asyncio.wait_for(go(), 90))
    assert offered == 32.0
    assert reason is None
    assert pending >= 1  # the StartTransaction waits for the CSMS
