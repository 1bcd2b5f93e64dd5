"""The OCPP client against the `ocpp` library's central-system side over real websockets."""

import asyncio
import json

import websockets
from ocpp.v16 import call
from ocpp_helpers import CP, csms_server, make_settings, running

from controller.demo import PAUSE_PROFILE, RESUME_PROFILE


def _status(status, connector=1):
    return lambda r: r.payload.get("connector_id") == connector and r.payload["status"] == status


def test_boot_once_per_power_up_across_reconnects(tmp_path):
    async def go():
        async with csms_server() as csms, running(make_settings(csms.url, tmp_path)):
            await csms.wait_for("BootNotification", timeout_s=20)
            await csms.wait_for("StatusNotification", _status("Available", 0), timeout_s=10)
            mark = len(csms.received)
            await csms.wait_connected(CP, 5)
            await csms.drop(CP)
            # Back online: statuses again, but no second BootNotification.
            await csms.wait_for("StatusNotification", _status("Available", 0), 20, since=mark)
            return [r.action for r in csms.received]

    actions = asyncio.run(asyncio.wait_for(go(), 60))
    assert actions.count("BootNotification") == 1


def test_pending_then_accepted_boot(tmp_path):
    async def go():
        async with csms_server() as csms:
            csms.boot_statuses.extend(["Pending", "Rejected"])
            async with running(make_settings(csms.url, tmp_path)):
                await csms.wait_for("StatusNotification", timeout_s=40)
                return [r.action for r in csms.received]

    actions = asyncio.run(asyncio.wait_for(go(), 60))
    # Nothing but BootNotification until the CSMS accepted it.
    assert actions[:3] == ["BootNotification"] * 3
    assert actions[3] == "StatusNotification"


def test_seed_profiles_pause_and_resume_and_show_in_the_composite(tmp_path):
    async def go():
        async with csms_server() as csms, running(make_settings(csms.url, tmp_path)) as charger:
            await csms.wait_for("BootNotification", timeout_s=20)
            await csms.wait_connected(CP, 5)
            mark = len(csms.received)
            await csms.call(CP, call.RemoteStartTransaction(id_tag="T", connector_id=1))
            start = await csms.wait_for("StartTransaction", timeout_s=10, since=mark)
            tx = start.payload["_assigned_transaction_id"]
            await csms.wait_for("StatusNotification", _status("Charging"), 20, since=mark)
            # A TxProfile for another transaction is refused.
            r = await csms.call(
                CP,
                call.SetChargingProfile(
                    connector_id=1, cs_charging_profiles={**PAUSE_PROFILE, "transactionId": tx + 1}
                ),
            )
            assert r.status == "Rejected"
            mark = len(csms.received)
            r = await csms.call(
                CP,
                call.SetChargingProfile(
                    connector_id=1, cs_charging_profiles={**PAUSE_PROFILE, "transactionId": tx}
                ),
            )
            assert r.status == "Accepted"
            await csms.wait_for("StatusNotification", _status("SuspendedEVSE"), 10, since=mark)
            assert charger.loop.unit(1).status.offered_a == 0.0
            r = await csms.call(
                CP, call.SetChargingProfile(connector_id=1, cs_charging_profiles=RESUME_PROFILE)
            )
            assert r.status == "Accepted"
            comp = await csms.call(
                CP, call.GetCompositeSchedule(connector_id=1, duration=120, charging_rate_unit="W")
            )
            periods = comp.charging_schedule["charging_schedule_period"]
            assert comp.status == "Accepted" and [float(p["limit"]) for p in periods] == [11040.0]
            r = await csms.call(CP, call.ClearChargingProfile(id=1002))
            assert r.status == "Accepted"
            comp = await csms.call(CP, call.GetCompositeSchedule(connector_id=1, duration=60))
            assert [
                float(p["limit"]) for p in comp.charging_schedule["charging_schedule_period"]
            ] == [0.0]
            r = await csms.call(CP, call.GetCompositeSchedule(connector_id=7, duration=60))
            assert r.status == "Rejected"
            # Remote stop with reason Remote; the TxProfile dies with the transaction.
            await csms.call(CP, call.RemoteStopTransaction(transaction_id=tx))
            stop = await csms.wait_for("StopTransaction", timeout_s=10)
            assert stop.payload["reason"] == "Remote"
            assert charger.profiles.installed() == []

    asyncio.run(asyncio.wait_for(go(), 90))


def test_trigger_message_sends_the_message_after_the_answer(tmp_path):
    async def go():
        async with csms_server() as csms, running(make_settings(csms.url, tmp_path)):
            await csms.wait_for("StatusNotification", timeout_s=20)
            await csms.wait_connected(CP, 5)
            results = {}
            for msg in ("Heartbeat", "MeterValues", "StatusNotification", "BootNotification"):
                mark = len(csms.received)
                r = await csms.call(CP, call.TriggerMessage(requested_message=msg))
                results[msg] = r.status
                await csms.wait_for(msg, timeout_s=10, since=mark)
            r = await csms.call(
                CP, call.TriggerMessage(requested_message="Heartbeat", connector_id=9)
            )
            results["bad connector"] = r.status
            return results

    results = asyncio.run(asyncio.wait_for(go(), 60))
    assert results == {
        "Heartbeat": "Accepted",
        "MeterValues": "Accepted",
        "StatusNotification": "Accepted",
        "BootNotification": "Accepted",
        "bad connector": "Rejected",
    }


def test_configuration_keys(tmp_path):
    async def go():
        async with csms_server() as csms, running(make_settings(csms.url, tmp_path)):
            await csms.wait_for("StatusNotification", timeout_s=20)
            await csms.wait_connected(CP, 5)
            out = {}
            for key, value in [
                ("MeterValueSampleInterval", "10"),
                ("MeterValueSampleInterval", "ten"),
                ("NumberOfConnectors", "2"),
                ("NoSuchKey", "1"),
                ("AuthorizationKey", "00112233445566778899aabbccddeeff"),
                ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus"),
            ]:
                r = await csms.call(CP, call.ChangeConfiguration(key=key, value=value))
                out[(key, value)] = r.status
            conf = await csms.call(CP, call.GetConfiguration())
            keys = {k["key"]: k for k in conf.configuration_key}
            unknown = await csms.call(CP, call.GetConfiguration(key=["Nope"]))
            return out, keys, unknown.unknown_key

    out, keys, unknown = asyncio.run(asyncio.wait_for(go(), 60))
    assert out[("MeterValueSampleInterval", "10")] == "Accepted"
    assert out[("MeterValueSampleInterval", "ten")] == "Rejected"
    assert out[("NumberOfConnectors", "2")] == "Rejected"
    assert out[("NoSuchKey", "1")] == "NotSupported"
    assert out[("AuthorizationKey", "00112233445566778899aabbccddeeff")] == "RebootRequired"
    assert out[("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus")] == "Rejected"
    assert keys["MeterValueSampleInterval"]["value"] == "10"
    assert keys["NumberOfConnectors"]["readonly"] is True
    assert keys["ChargeProfileMaxStackLevel"]["value"] == "10"
    assert "value" not in keys["AuthorizationKey"]
    for required in (
        "HeartbeatInterval",
        "ConnectionTimeOut",
        "StopTxnSampledData",
        "ChargingScheduleAllowedChargingRateUnit",
        "MaxChargingProfilesInstalled",
        "SupportedFeatureProfiles",
        "TransactionMessageAttempts",
    ):
        assert required in keys
    assert unknown == ["Nope"]


async def _raw_csms(handler):
    server = await websockets.serve(
        handler, "127.0.0.1", 0, subprotocols=[websockets.Subprotocol("ocpp1.6")]
    )
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"


def test_malformed_frames_get_a_callerror_and_the_service_carries_on(tmp_path):
    replies = []

    async def handler(ws):
        async def answer_until(action):
            while True:
                msg = json.loads(await ws.recv())
                if msg[0] == 2:
                    payload = (
                        {
                            "status": "Accepted",
                            "currentTime": "2024-05-01T10:00:00Z",
                            "interval": 300,
                        }
                        if msg[2] == "BootNotification"
                        else {}
                    )
                    await ws.send(json.dumps([3, msg[1], payload]))
                    if msg[2] == action:
                        return msg
                else:
                    return msg

        await answer_until("StatusNotification")
        for frame in [
            "this is not json",
            '[2, "m1", "Reset"]',
            '{"a": 1}',
            '[2, "m2", "SetChargingProfile", {"connectorId": "one"}]',
            '[2, "m3", "NoSuchAction", {}]',
            '[2, "m4", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": '
            '{"chargingProfileId": 1, "stackLevel": 0, '
            '"chargingProfilePurpose": "TxDefaultProfile", '
            '"chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", '
            '"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.25}]}}}]',
            '[2, "m5", "ClearCache", {}]',
        ]:
            await ws.send(frame)
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if reply[0] in (3, 4):
                    replies.append(reply)
                    break
                await ws.send(json.dumps([3, reply[1], {}]))
        await ws.close()

    async def go():
        server, url = await _raw_csms(handler)
        async with running(make_settings(url, tmp_path)):
            for _ in range(200):
                if len(replies) == 7:
                    break
                await asyncio.sleep(0.1)
        server.close()

    asyncio.run(asyncio.wait_for(go(), 60))
    assert [r[0] for r in replies] == [4, 4, 4, 4, 4, 4, 3]
    assert replies[0][1] == "-1" and replies[0][2] == "FormatViolation"
    assert replies[1][1] == "m1"
    assert replies[3][1] == "m2"
    assert replies[4][2] in ("NotImplemented", "NotSupported")
    assert replies[5][1] == "m4" and replies[5][2] == "FormatViolation"
    assert replies[6] == [3, "m5", {"status": "Accepted"}]


def test_remote_start_without_a_connector(tmp_path):
    async def go():
        async with csms_server() as csms, running(make_settings(csms.url, tmp_path)):
            await csms.wait_for("StatusNotification", timeout_s=20)
            await csms.wait_connected(CP, 5)
            with_profile = await csms.call(
                CP, call.RemoteStartTransaction(id_tag="T", charging_profile=PAUSE_PROFILE)
            )
            plain = await csms.call(CP, call.RemoteStartTransaction(id_tag="T"))
            start = await csms.wait_for("StartTransaction", timeout_s=10)
            busy = await csms.call(CP, call.RemoteStartTransaction(id_tag="T", connector_id=1))
            return with_profile.status, plain.status, start.payload["connector_id"], busy.status

    assert asyncio.run(asyncio.wait_for(go(), 60)) == ("Rejected", "Accepted", 1, "Rejected")
