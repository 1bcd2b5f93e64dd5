"""The 2.0.1 functional blocks beyond the seed story, against the strict ocpp-rpc CSMS
(subprotocol ocpp2.0.1): provisioning variables, availability, TriggerMessage, unlock,
smart charging on EVSE 0 and 1 with the profile report and clearing, GetTransactionStatus,
and an outage whose TransactionEvents arrive afterwards, in order, once, `offline: true`."""

import asyncio
import contextlib
from dataclasses import replace

import pytest
from strict_csms import CsmsCallError, StrictCsms
from test_strict_v201 import V201, _settings, _state_is, tx_profile

from controller.app import Charger

CP = "CS-STRICT-201"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)

STATION_MAX = {
    "id": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "ChargingStationMaxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 1,
            "startSchedule": "2026-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20}],
        }
    ],
}


REMOTE_START_PROFILE = {
    "id": 6,
    "stackLevel": 2,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12}],
        }
    ],
}


def _get(component, variable):
    return {"getVariableData": [{"component": {"name": component}, "variable": {"name": variable}}]}


async def _blocks(tmp_path):
    async with StrictCsms.start(V201) as csms:
        charger = Charger(_settings(csms.url, tmp_path))
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
        run = asyncio.create_task(charger.run())
        out = {}
        try:
            await csms.wait_for_call("StatusNotification", timeout=30)
            r = await csms.call(CP, "GetVariables", _get("TxCtrlr", "TxStopPoint"))
            assert r["getVariableResult"][0]["attributeValue"] == "EVConnected,Authorized"
            r = await csms.call(CP, "GetVariables", _get("NoSuchCtrlr", "X"))
            assert r["getVariableResult"][0]["attributeStatus"] == "UnknownComponent"
            too_many = {"getVariableData": _get("TxCtrlr", "TxStopPoint")["getVariableData"] * 51}
            with pytest.raises(CsmsCallError):  # more than ItemsPerMessage[GetVariables]
                await csms.call(CP, "GetVariables", too_many)
            mark = len(csms.events)
            r = await csms.call(
                CP, "GetBaseReport", {"requestId": 3, "reportBase": "FullInventory"}
            )
            assert r["status"] == "Accepted"
            await csms.wait_for_call("NotifyReport", lambda p: not p.get("tbc"), 10, mark)
            pages = [c["payload"] for c in csms.calls("NotifyReport")]
            assert [p["seqNo"] for p in pages] == list(range(len(pages)))
            assert len(pages) >= 2 and all(len(p["reportData"]) <= 20 for p in pages)
            names = {
                (d["component"]["name"], d["variable"]["name"])
                for p in pages
                for d in p["reportData"]
            }
            assert ("SampledDataCtrlr", "TxUpdatedInterval") in names
            assert ("TxCtrlr", "TxStartPoint") in names
            r = await csms.call(
                CP, "GetBaseReport", {"requestId": 4, "reportBase": "SummaryInventory"}
            )
            assert r["status"] == "NotSupported"
            r = await csms.call(CP, "DataTransfer", {"vendorId": "com.example"})
            assert r["status"] == "UnknownVendorId"
            r = await csms.call(CP, "ClearCache", {})
            assert r["status"] == "Accepted"  # AuthCacheCtrlr.Enabled

            # G: availability of EVSE 1
            mark = len(csms.events)
            r = await csms.call(
                CP, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
            )
            assert r["status"] == "Accepted"
            await csms.wait_for_call(
                "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable", 10, mark
            )
            r = await csms.call(
                CP,
                "RequestStartTransaction",
                {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1, "evseId": 1},
            )
            assert r["status"] == "Rejected"
            r = await csms.call(CP, "ChangeAvailability", {"operationalStatus": "Operative"})
            assert r["status"] == "Accepted"
            await csms.wait_for_call(
                "StatusNotification", lambda p: p["connectorStatus"] == "Occupied", 10, mark
            )

            # K: a station cap on EVSE 0, read back through the composite schedule
            r = await csms.call(
                CP, "SetChargingProfile", {"evseId": 0, "chargingProfile": STATION_MAX}
            )
            assert r["status"] == "Accepted"
            r = await csms.call(
                CP, "SetChargingProfile", {"evseId": 1, "chargingProfile": STATION_MAX}
            )
            assert r["status"] == "Rejected"

            mark = len(csms.events)
            r = await csms.call(
                CP,
                "RequestStartTransaction",
                {
                    "idToken": {"idToken": "B", "type": "Central"},
                    "remoteStartId": 2,
                    "evseId": 1,
                    "chargingProfile": REMOTE_START_PROFILE,  # K05
                },
            )
            assert r["status"] == "Accepted"
            started = await csms.wait_for_call(
                "TransactionEvent", lambda p: p["eventType"] == "Started", 20, since=mark
            )
            tx_id = started["payload"]["transactionInfo"]["transactionId"]
            await csms.wait_for_call("TransactionEvent", _state_is("Charging"), 20, since=mark)
            comp = await csms.call(CP, "GetCompositeSchedule", {"evseId": 1, "duration": 60})
            assert [p["limit"] for p in comp["schedule"]["chargingSchedulePeriod"]] == [12]
            out["offered_under_remote_start_profile_a"] = charger.snapshot(1).status.offered_a
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"evseId": 1, "chargingProfile": tx_profile(5, 3, 10, tx_id)},
            )
            assert r["status"] == "Accepted"
            comp = await csms.call(CP, "GetCompositeSchedule", {"evseId": 1, "duration": 60})
            assert [p["limit"] for p in comp["schedule"]["chargingSchedulePeriod"]] == [10]

            mark = len(csms.events)
            r = await csms.call(CP, "GetChargingProfiles", {"requestId": 9, "chargingProfile": {}})
            assert r["status"] == "Accepted"
            report = await csms.wait_for_call("ReportChargingProfiles", timeout=10, since=mark)
            last = await csms.wait_for_call(
                "ReportChargingProfiles", lambda p: not p["tbc"], 10, since=mark
            )
            reports = [c["payload"] for c in csms.calls("ReportChargingProfiles")]
            assert report["payload"]["requestId"] == 9 and last["payload"]["requestId"] == 9
            ids = {(p["evseId"], q["id"]) for p in reports for q in p["chargingProfile"]}
            assert ids == {(0, 1), (1, 5), (1, 6)}
            tx_reported = [q for p in reports for q in p["chargingProfile"] if q["id"] == 5]
            assert tx_reported[0]["transactionId"] == tx_id
            r = await csms.call(
                CP, "GetChargingProfiles", {"requestId": 10, "chargingProfile": {"stackLevel": 9}}
            )
            assert r["status"] == "NoProfiles"
            r = await csms.call(CP, "ClearChargingProfile", {"chargingProfileId": 5})
            assert r["status"] == "Accepted"
            r = await csms.call(CP, "ClearChargingProfile", {"chargingProfileId": 5})
            assert r["status"] == "Unknown"

            # F: trigger and unlock
            mark = len(csms.events)
            for message in ("Heartbeat", "StatusNotification", "MeterValues", "TransactionEvent"):
                r = await csms.call(CP, "TriggerMessage", {"requestedMessage": message})
                assert r["status"] == "Accepted", message
                await csms.wait_for_call(message, timeout=10, since=mark)
            triggered = await csms.wait_for_call(
                "TransactionEvent", lambda p: p["triggerReason"] == "Trigger", 10, since=mark
            )
            assert triggered["payload"]["transactionInfo"]["chargingState"] == "Charging"
            r = await csms.call(CP, "TriggerMessage", {"requestedMessage": "LogStatusNotification"})
            assert r["status"] == "NotImplemented"
            r = await csms.call(CP, "UnlockConnector", {"evseId": 1, "connectorId": 1})
            assert r["status"] == "OngoingAuthorizedTransaction"
            r = await csms.call(CP, "UnlockConnector", {"evseId": 2, "connectorId": 1})
            assert r["status"] == "UnknownConnector"

            # E: an outage; the station keeps metering into the queue
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
            await csms.set_password("not-the-stations")
            await csms.close_connection(CP)
            await asyncio.sleep(6)
            out["queued_during_outage"] = charger.ocpp.db.pending()
            await csms.set_password(None)
            mark = len(csms.events)
            await csms.wait_connected(CP, timeout=30, since=mark)
            r = await csms.call(CP, "GetTransactionStatus", {"transactionId": tx_id})
            assert r["ongoingIndicator"] is True

            mark = len(csms.events)
            r = await csms.call(CP, "RequestStopTransaction", {"transactionId": tx_id})
            assert r["status"] == "Accepted"
            await csms.wait_for_call(
                "TransactionEvent", lambda p: p["eventType"] == "Ended", 20, since=mark
            )
            # The Ended row leaves the queue once the charger has stored the CSMS's answer to
            # it; a GetTransactionStatus racing that answer may still see it queued.
            for _ in range(50):
                r = await csms.call(CP, "GetTransactionStatus", {"transactionId": tx_id})
                if not r["messagesInQueue"]:
                    break
                await asyncio.sleep(0.1)
            assert r == {"messagesInQueue": False, "ongoingIndicator": False}
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)
        return csms, tx_id, out


@pytest.mark.slow
def test_functional_blocks_and_an_outage_against_the_strict_csms(tmp_path):
    csms, _, out = asyncio.run(asyncio.wait_for(_blocks(tmp_path), 120))
    assert csms.violations == [], csms.violations
    assert out["offered_under_remote_start_profile_a"] == 12.0
    assert out["queued_during_outage"] >= 4
    events = [c["payload"] for c in csms.calls("TransactionEvent")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    offline = [e for e in events if e.get("offline")]
    assert len(offline) >= 4
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert len({(e["seqNo"], e["timestamp"]) for e in events}) == len(events)  # once each
    assert events[-1]["eventType"] == "Ended"
    assert len(csms.calls("BootNotification")) == 1
    security = [c["payload"]["type"] for c in csms.calls("SecurityEventNotification")]
    assert security[0] == "StartupOfTheDevice"
    assert "FailedToAuthenticateAtCsms" in security  # the refused reconnects, coalesced
