"""OCPP 1.6 Core rules the adapter used to break (issue 12, items 7-11), on a fake clock over
an in-memory link: the boot gate, ConnectionTimeOut, connector 0's status, key names in any
case, and NotSupported for profiles that are not enabled."""

from typing import Any

from ocpp_unit_rig import CSMS_TIME, booted, default_answer, rig, settle, until

from controller.ocpp.feature_profiles import FeatureProfile
from hw.base import CpState


def _boot_script(*statuses: tuple[str, int]):
    answers = list(statuses)

    def answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action == "BootNotification":
            status, interval = answers.pop(0) if len(answers) > 1 else answers[0]
            return {"status": status, "currentTime": CSMS_TIME, "interval": interval}
        return default_answer(action, payload)

    return answer


def _statuses(r, connector_id):
    return [
        p["status"]
        for a, p, _ in r.csms.calls
        if a == "StatusNotification" and p["connectorId"] == connector_id
    ]


async def _ask(r, msg_id, action, payload):
    await r.csms.request(msg_id, action, payload)
    await until(lambda: r.csms.reply_to(msg_id) is not None)
    return r.csms.reply_to(msg_id)


# --- 7: the boot gate -------------------------------------------------------------------------


async def test_while_rejected_no_csms_request_is_answered_then_all_are(tmp_path):
    async with rig(tmp_path, _boot_script(("Rejected", 30), ("Accepted", 300))) as r:
        await until(lambda: r.service.link_state == "rejected")
        await r.csms.request("g1", "GetConfiguration", {})
        await r.csms.request("r1", "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        await r.csms.request("x1", "NoSuchAction", {})
        await settle()
        await r.timers.advance(29)
        # OCPP 1.6 §4.2.1: no CALLRESULT, and no CALLERROR either.
        assert r.csms.replies == []
        assert r.service.frames_rejected == 3
        await r.timers.advance(1)
        await booted(r)
        reply = await _ask(r, "g2", "GetConfiguration", {"key": ["NumberOfConnectors"]})
        assert reply[0] == 3 and reply[2]["configurationKey"][0]["value"] == "1"


async def test_while_pending_remote_start_and_stop_are_rejected_and_nothing_starts(tmp_path):
    async with rig(tmp_path, _boot_script(("Pending", 60), ("Accepted", 300))) as r:
        r.hardware.cp_state = CpState.B  # a car is plugged in and waiting
        await until(lambda: r.service.link_state == "pending")
        start = await _ask(r, "s1", "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        stop = await _ask(r, "s2", "RemoteStopTransaction", {"transactionId": 1})
        assert start[2] == {"status": "Rejected"} and stop[2] == {"status": "Rejected"}
        # The CSMS may configure a Pending charger.
        changed = await _ask(
            r, "c1", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"}
        )
        keys = await _ask(r, "g1", "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        trigger = await _ask(r, "t1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert changed[2] == {"status": "Accepted"}
        assert keys[2]["configurationKey"][0]["value"] == "15"
        assert trigger[2] == {"status": "Accepted"}
        assert r.service.active_transaction(1) is None
        assert not r.service.charging_permitted(1)
        await r.timers.advance(60)
        await booted(r)
        start = await _ask(r, "s3", "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        assert start[2] == {"status": "Accepted"}
        await until(lambda: "StartTransaction" in r.csms.actions())


async def test_while_pending_a_triggered_message_is_sent_and_free_vend_waits(tmp_path):
    script = _boot_script(("Pending", 60), ("Accepted", 300))
    async with rig(tmp_path, script, free_vend_id_tag="FREE") as r:
        r.hardware.cp_state = CpState.B
        await until(lambda: r.service.link_state == "pending")
        r.service.connector_changed(1)  # the car is seen while the CSMS says Pending
        trigger = await _ask(r, "t1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert trigger[2] == {"status": "Accepted"}
        await until(lambda: "Heartbeat" in r.csms.actions())  # sent although Pending
        await settle()
        assert r.service.active_transaction(1) is None
        assert set(r.csms.actions()) == {"BootNotification", "Heartbeat"}
        await r.timers.advance(60)
        await until(lambda: "StartTransaction" in r.csms.actions())  # once Accepted


# --- 8: ConnectionTimeOut -----------------------------------------------------------------------


async def test_a_remote_start_without_a_car_returns_to_available_after_connection_timeout(
    tmp_path,
):
    async with rig(tmp_path) as r:
        await booted(r)
        assert r.service.keys.change("ConnectionTimeOut", "20") == "Accepted"
        reply = await _ask(r, "s1", "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        assert reply[2] == {"status": "Accepted"}
        await until(lambda: _statuses(r, 1)[-1:] == ["Preparing"])
        await r.timers.advance(19.9)
        assert _statuses(r, 1)[-1] == "Preparing"
        await r.timers.advance(0.1)
        await until(lambda: _statuses(r, 1)[-1:] == ["Available"])
        assert r.service.connector_status(1) == "Available"
        # A car arriving later does not start on the expired authorization.
        r.hardware.cp_state = CpState.B
        r.service.connector_changed(1)
        await settle()
        assert r.service.active_transaction(1) is None
        assert "StartTransaction" not in r.csms.actions()


async def test_a_car_within_connection_timeout_still_starts(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        await _ask(r, "s1", "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        await r.timers.advance(30)  # ConnectionTimeOut is 60 s
        r.hardware.cp_state = CpState.B
        r.service.connector_changed(1)
        await until(lambda: "StartTransaction" in r.csms.actions())
        await r.timers.advance(60)
        assert r.service.active_transaction(1) is not None


# --- 9: connector 0 -----------------------------------------------------------------------------


async def test_change_availability_of_connector_zero_shows_on_connector_zero(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert _statuses(r, 0) == ["Available"]
        off = await _ask(r, "a1", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
        assert off[2] == {"status": "Accepted"}
        await until(lambda: _statuses(r, 0)[-1:] == ["Unavailable"])
        await until(lambda: _statuses(r, 1)[-1:] == ["Unavailable"])
        on = await _ask(r, "a2", "ChangeAvailability", {"connectorId": 0, "type": "Operative"})
        assert on[2] == {"status": "Accepted"}
        await until(lambda: _statuses(r, 0)[-1:] == ["Available"])
        await until(lambda: _statuses(r, 1)[-1:] == ["Available"])
        assert _statuses(r, 0) == ["Available", "Unavailable", "Available"]


# --- 10: key names in any case ------------------------------------------------------------------


async def test_configuration_keys_match_in_any_case_and_answer_in_ours(tmp_path):
    async with rig(tmp_path, _boot_script(("Accepted", 300))) as r:
        await booted(r)
        changed = await _ask(
            r, "c1", "ChangeConfiguration", {"key": "heartbeatINTERVAL", "value": "7"}
        )
        unknown = await _ask(r, "c2", "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
        listed = await _ask(
            r, "g1", "GetConfiguration", {"key": ["heartbeatinterval", "NOSUCHKEY"]}
        )
        assert changed[2] == {"status": "Accepted"}
        assert unknown[2] == {"status": "NotSupported"}
        assert listed[2]["configurationKey"] == [
            {"key": "HeartbeatInterval", "readonly": False, "value": "7"}
        ]
        assert listed[2]["unknownKey"] == ["NOSUCHKEY"]
        # The change acts at once, like one in the key's own spelling.
        start = r.clock.monotonic()
        await r.timers.advance(7)
        await until(lambda: "Heartbeat" in r.csms.actions())
        beat = next(t for a, _, t in r.csms.calls if a == "Heartbeat")
        assert beat - start <= 7


# --- 11: feature profiles -----------------------------------------------------------------------


async def test_requests_of_profiles_not_enabled_are_not_supported(tmp_path):
    async with rig(tmp_path, feature_profiles=(FeatureProfile.CORE,)) as r:
        await booted(r)
        profile = {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
            },
        }
        asked = {
            "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": profile},
            "TriggerMessage": {"requestedMessage": "Heartbeat"},
            "UpdateFirmware": {"location": "http://x/y", "retrieveDate": CSMS_TIME},
            "ReserveNow": {
                "connectorId": 1,
                "expiryDate": CSMS_TIME,
                "idTag": "T",
                "reservationId": 1,
            },
            "SendLocalList": {"listVersion": 1, "updateType": "Full"},
            "BootNotification": {"chargePointVendor": "v", "chargePointModel": "m"},
            "InstallCertificate": {
                "certificateType": "CentralSystemRootCertificate",
                "certificate": "x",
            },
            "NoSuchAction": {},
        }
        replies = {a: await _ask(r, f"m{i}", a, p) for i, (a, p) in enumerate(asked.items())}
        codes = {a: (rep[0], rep[2]) for a, rep in replies.items()}
        expected = {a: (4, "NotSupported") for a in asked}
        expected["NoSuchAction"] = (4, "NotImplemented")
        assert codes == expected
        keys = await _ask(r, "g", "GetConfiguration", {"key": ["SupportedFeatureProfiles"]})
        assert keys[2]["configurationKey"][0]["value"] == "Core"
        assert r.service.profiles.installed() == []


async def test_supported_feature_profiles_lists_what_is_enabled(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        # No firmware management was set up on this service: not listed, not handled.
        assert r.service.keys.get("SupportedFeatureProfiles") == (
            "Core,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
        )
        rep = await _ask(r, "u", "GetDiagnostics", {"location": "http://x/"})
        assert rep[0] == 4 and rep[2] == "NotSupported"
        rep = await _ask(r, "t", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert rep[2] == {"status": "Accepted"}
        rep = await _ask(
            r, "f", "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}
        )
        assert rep[2] == {"status": "NotImplemented"}
