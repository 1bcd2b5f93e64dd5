"""The seed story in OCPP 2.0.1 against an independent CSMS that validates every frame both
ways (npm ocpp-rpc, strict mode, subprotocol ocpp2.0.1): RequestStartTransaction, a 0 A
TxProfile (1001, Relative, stack level 1) pauses it, a 16 A one (1002, stack level 10) resumes
it, RequestStopTransaction ends it; the transaction stays open throughout, its seqNo has no
gaps, and no frame breaks a schema."""

import asyncio
import contextlib
import time
from dataclasses import replace

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CS-STRICT-201"
V201 = "ocpp2.0.1"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _settings(url, tmp_path):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP, "version": "2.0.1"},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.5},
        pilot={"min_pause_s": 5},
    )


def tx_profile(profile_id, stack_level, limit_a, transaction_id):
    return {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": transaction_id,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
            }
        ],
    }


def _state_is(state):
    return lambda p: p.get("transactionInfo", {}).get("chargingState") == state


def _variable(component, variable, value):
    return {
        "setVariableData": [
            {
                "attributeValue": value,
                "component": {"name": component},
                "variable": {"name": variable},
            }
        ]
    }


async def _story(tmp_path):
    async with StrictCsms.start(V201) as csms:
        charger = Charger(_settings(csms.url, tmp_path))
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=4.0)
        ev = charger.hardware[1].ev
        run = asyncio.create_task(charger.run())
        seen = {}
        try:
            boot = await csms.wait_for_call("BootNotification", timeout=30)
            assert boot["payload"]["reason"] == "PowerUp"
            occupied = await csms.wait_for_call(
                "StatusNotification", lambda p: p["connectorStatus"] == "Occupied", 20
            )
            assert (occupied["payload"]["evseId"], occupied["payload"]["connectorId"]) == (1, 1)
            r = await csms.call(
                CP, "SetVariables", _variable("SampledDataCtrlr", "TxUpdatedInterval", "2")
            )
            assert r["setVariableResult"][0]["attributeStatus"] == "Accepted"
            r = await csms.call(
                CP, "SetVariables", _variable("TxCtrlr", "TxStartPoint", "Authorized")
            )
            assert r["setVariableResult"][0]["attributeStatus"] == "Rejected"  # read only

            mark = len(csms.events)
            r = await csms.call(
                CP,
                "RequestStartTransaction",
                {
                    "idToken": {"idToken": "STRICT", "type": "Central"},
                    "remoteStartId": 7,
                    "evseId": 1,
                },
            )
            assert r["status"] == "Accepted"
            started = await csms.wait_for_call(
                "TransactionEvent", lambda p: p["eventType"] == "Started", 20, since=mark
            )
            tx_id = started["payload"]["transactionInfo"]["transactionId"]
            assert started["payload"]["triggerReason"] == "RemoteStart"
            assert started["payload"]["transactionInfo"]["remoteStartId"] == 7
            assert started["payload"]["idToken"] == {"idToken": "STRICT", "type": "Central"}
            assert started["payload"]["evse"] == {"id": 1, "connectorId": 1}
            await csms.wait_for_call("TransactionEvent", _state_is("Charging"), 20, since=mark)
            seen["charging_a"] = ev.drawn_current_a

            # A TxProfile for a transaction that is not running here: Rejected, and says why.
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"evseId": 1, "chargingProfile": tx_profile(999, 2, 8, "nope")},
            )
            assert r["status"] == "Rejected"
            assert r["statusInfo"]["reasonCode"] == "TxNotFound"

            mark = len(csms.events)
            t0 = time.monotonic()
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"evseId": 1, "chargingProfile": tx_profile(1001, 1, 0, tx_id)},
            )
            assert r["status"] == "Accepted"
            paused = await csms.wait_for_call(
                "TransactionEvent", _state_is("SuspendedEVSE"), 20, since=mark
            )
            seen["pause_reported_s"] = time.monotonic() - t0
            assert paused["payload"]["triggerReason"] == "ChargingRateChanged"
            seen["pause_duty"] = ev.duty_percent
            comp = await csms.call(CP, "GetCompositeSchedule", {"evseId": 1, "duration": 600})
            assert comp["status"] == "Accepted"
            assert [p["limit"] for p in comp["schedule"]["chargingSchedulePeriod"]] == [0]

            await asyncio.sleep(5)  # the pilot's minimum pause
            mark = len(csms.events)
            t0 = time.monotonic()
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"evseId": 1, "chargingProfile": tx_profile(1002, 10, 16, tx_id)},
            )
            assert r["status"] == "Accepted"
            resumed = await csms.wait_for_call(
                "TransactionEvent", _state_is("Charging"), 20, since=mark
            )
            seen["resume_reported_s"] = time.monotonic() - t0
            assert resumed["payload"]["triggerReason"] == "ChargingStateChanged"
            await asyncio.sleep(1.5)
            seen["resume_a"] = ev.drawn_current_a
            seen["resume_offered_a"] = charger.snapshot(1).status.offered_a
            await asyncio.sleep(2.5)  # at least one periodic Updated at 16 A

            mark = len(csms.events)
            r = await csms.call(CP, "RequestStopTransaction", {"transactionId": tx_id})
            assert r["status"] == "Accepted"
            ended = await csms.wait_for_call(
                "TransactionEvent", lambda p: p["eventType"] == "Ended", 20, since=mark
            )
            assert ended["payload"]["triggerReason"] == "RemoteStop"
            assert ended["payload"]["transactionInfo"]["stoppedReason"] == "Remote"
            r = await csms.call(CP, "RequestStopTransaction", {"transactionId": tx_id})
            assert r["status"] == "Rejected"
            assert charger.profiles.installed() == []  # its TxProfiles went with it
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)
        return csms, tx_id, seen


@pytest.mark.slow
def test_seed_story_in_201_against_the_strict_csms(tmp_path):
    csms, tx_id, seen = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert csms.violations == [], csms.violations
    events = [c["payload"] for c in csms.calls("TransactionEvent")]
    assert all(e["transactionInfo"]["transactionId"] == tx_id for e in events)
    assert len(tx_id) == 36
    # seqNo from 0, one more per message, none lost, none twice
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    kinds = [e["eventType"] for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended"
    assert set(kinds[1:-1]) == {"Updated"}  # open throughout
    states = [
        e["transactionInfo"]["chargingState"]
        for e in events[1:-1]
        if "chargingState" in e["transactionInfo"]
    ]
    tail = [s for s in states if s in ("Charging", "SuspendedEVSE")]
    assert tail == ["Charging", "SuspendedEVSE", "Charging"], states
    periodic = [e for e in events if e["triggerReason"] == "MeterValuePeriodic"]
    assert periodic and all(e["meterValue"][0]["sampledValue"] for e in periodic)
    assert seen["charging_a"] > 0
    assert seen["pause_duty"] == 100.0  # X1: +12 V, no PWM while paused
    assert seen["pause_reported_s"] < 5.0  # a safety bound; measured 0.02-0.04 s
    assert seen["resume_offered_a"] == 16.0
    assert 0 < seen["resume_a"] <= 16.0
    assert len(csms.calls("BootNotification")) == 1
