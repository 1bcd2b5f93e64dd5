"""The 2.0.1 adapter's transaction flow and answers on an in-memory link and a fake clock:
local cards (Authorize), a remote start before the car, a start with a TxProfile, the CSMS's
verdict on an idToken, a refused TransactionEvent retried, boot Pending, Reset."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rig201 import booted, rig201

from hw.base import CpState
from tests.ocpp.unit.ocpp_unit_rig import default_answer, settle, until

TOKEN = {"id_token": "CARD1", "type": "ISO14443"}


def answering(**overrides: Any):
    """default_answer, except the actions given: a dict, or a callable of the payload."""

    def answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action in overrides:
            o = overrides[action]
            return o(payload) if callable(o) else o
        return default_answer(action, payload)

    return answer


ACCEPT = answering(Authorize={"idTokenInfo": {"status": "Accepted"}})


async def test_a_local_card_is_authorized_by_the_csms_and_stops_its_own_session(tmp_path):
    async with rig201(tmp_path, ACCEPT) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.changed()
        assert await r.service.present_id_tag(1, "CARD1")
        await until(lambda: len(r.events()) == 1)
        started = r.events()[0]
        assert started["triggerReason"] == "Authorized"  # the car was there first
        assert started["idToken"] == {"idToken": "CARD1", "type": "ISO14443"}
        assert ("Authorize", {"idToken": {"idToken": "CARD1", "type": "ISO14443"}}) in [
            (a, p) for a, p, _ in r.csms.calls
        ]
        assert not await r.service.present_id_tag(1, "OTHER")  # not this session's card
        assert await r.service.present_id_tag(1, "CARD1")
        await until(lambda: len(r.events()) == 2)
        ended = r.events()[1]
        assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
            "StopAuthorized",
            "Local",
        )


async def test_a_card_the_csms_refuses_starts_nothing(tmp_path):
    refuse = answering(Authorize={"idTokenInfo": {"status": "Invalid"}})
    async with rig201(tmp_path, refuse) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        assert not await r.service.present_id_tag(1, "CARD1")
        await settle()
        assert r.service.active_transaction(1) is None and r.service.db.pending() == 0


async def test_a_remote_start_waits_for_the_car_and_says_remote_start(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        r.hardware.cable_max_a = 20.0  # a 20 A cable (PP resistor)
        assert r.service.handlers.request_start(TOKEN, 3, None, None) == ("Accepted", None)
        await settle()
        assert r.service.active_transaction(1) is None  # no car yet
        r.hardware.cp_state = CpState.B
        r.changed()
        await until(lambda: len(r.events()) == 1)
        assert r.events()[0]["triggerReason"] == "RemoteStart"
        assert r.events()[0]["transactionInfo"]["remoteStartId"] == 3
        assert r.events()[0]["cableMaxCurrent"] == 20


async def test_a_remote_start_with_a_tx_profile_installs_it_with_the_transaction(tmp_path):
    profile = {
        "id": 77,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
            }
        ],
    }
    async with rig201(tmp_path) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        with_id = {**profile, "transaction_id": "x"}
        status, info = r.service.handlers.request_start(TOKEN, 4, 1, with_id)
        assert status == "Rejected" and info is not None  # F01.FR.11: no transactionId yet
        assert r.service.handlers.request_start(TOKEN, 4, 1, profile) == ("Accepted", None)
        tx = r.service.active_transaction(1)
        assert tx is not None
        [installed] = r.service.profiles.installed()
        assert installed.profile.profile_id == 77
        limit = r.service.profiles.limit_at(1, tx.start + timedelta(seconds=5))
        assert limit.value == 10.0


async def test_an_id_token_the_csms_rejects_in_its_answer_ends_the_transaction(tmp_path):
    verdict = answering(
        TransactionEvent=lambda p: (
            {"idTokenInfo": {"status": "Blocked"}} if p["eventType"] == "Started" else {}
        )
    )
    async with rig201(tmp_path, verdict) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 5, 1, None)
        await until(lambda: len(r.events()) == 2)
        ended = r.events()[1]
        assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
            "Deauthorized",
            "DeAuthorized",
        )


async def test_a_refused_transaction_event_is_retried_after_the_attempt_interval(tmp_path):
    seen: list[int] = []

    def once_invalid(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload["seqNo"])
        return {"totalCost": "free"} if len(seen) == 1 else {}  # the first answer breaks the schema

    async with rig201(tmp_path, answering(TransactionEvent=once_invalid)) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 6, 1, None)
        await until(lambda: seen == [0])
        await settle()
        assert r.service.db.pending() == 1  # kept: the answer was not one
        await r.timers.advance(9)
        assert seen == [0]
        await r.timers.advance(2)  # OCPPCommCtrlr.MessageAttemptInterval = 10 s
        await until(lambda: r.service.db.pending() == 0)
        assert seen == [0, 0]  # the same message, the same seqNo


async def test_a_pending_boot_is_retried_and_nothing_else_is_sent(tmp_path):
    boots: list[int] = []

    def pending_once(payload: dict[str, Any]) -> dict[str, Any]:
        boots.append(1)
        status = "Pending" if len(boots) == 1 else "Accepted"
        return {"status": status, "currentTime": "2024-05-01T10:00:00.000Z", "interval": 20}

    async with rig201(tmp_path, answering(BootNotification=pending_once)) as r:
        await until(lambda: r.service.link_state == "pending")
        await settle()
        assert r.csms.actions() == ["BootNotification"]
        await r.timers.advance(21)
        await booted(r)
        assert r.csms.actions()[:2] == ["BootNotification", "BootNotification"]


async def test_reset_on_idle_waits_for_the_transaction_then_the_next_boot_says_why(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        assert next(p for a, p, _ in r.csms.calls if a == "BootNotification")["reason"] == (
            "PowerUp"
        )
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 7, 1, None)
        assert r.service.handlers.reset_status("OnIdle") == "Scheduled"
        r.service.handlers.reset_later("OnIdle")
        await r.timers.advance(5)
        assert r.hardware.resets == [] and r.service.active_transaction(1) is not None
        r.hardware.cp_state = CpState.A
        r.changed()  # the car leaves: the transaction ends, then the reset
        await r.timers.advance(2)
        await until(lambda: r.hardware.resets == ["Soft"])
        assert r.events()[-1]["triggerReason"] == "EVDeparted"
    async with rig201(tmp_path) as r:
        await booted(r)
        assert r.service.handlers.reset_status("Immediate") == "Accepted"
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 8, 1, None)
        r.service.handlers.reset_later("Immediate")
        await until(lambda: r.hardware.resets == ["Hard"])
        ended = r.events()[-1]
        assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
        assert next(p for a, p, _ in r.csms.calls if a == "BootNotification")["reason"] == (
            "RemoteReset"
        )


async def test_clock_aligned_values_outside_and_inside_a_transaction(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        item = {
            "component": {"name": "AlignedDataCtrlr"},
            "variable": {"name": "Interval"},
            "attribute_value": "60",
        }
        assert r.service.handlers.set_variables([item])[0]["attribute_status"] == "Accepted"
        await r.timers.advance(61)
        await until(lambda: "MeterValues" in [a for a, _ in r.csms.answered])
        [meter] = [p for a, p in r.csms.answered if a == "MeterValues"]
        assert meter["evseId"] == 1
        [value] = meter["meterValue"][0]["sampledValue"]
        assert (value["context"], value["measurand"], value["value"]) == (
            "Sample.Clock",
            "Energy.Active.Import.Register",
            1000.0,
        )
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 9, 1, None)
        await r.timers.advance(60)
        await until(lambda: any(e["triggerReason"] == "MeterValueClock" for e in r.events()))
        clock = next(e for e in r.events() if e["triggerReason"] == "MeterValueClock")
        assert clock["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
        assert [p for a, p in r.csms.answered if a == "MeterValues"] == [meter]  # not both


async def test_profiles_keep_applying_offline_and_to_a_transaction_started_offline(tmp_path):
    """K06/K07: what the CSMS set goes on limiting without it; a transaction started while
    offline gets the TxDefaultProfile."""
    default = {
        "id": 30,
        "stack_level": 0,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 8.0}],
            }
        ],
    }
    async with rig201(tmp_path) as r:
        await booted(r)
        assert r.service.handlers.set_charging_profile(0, default) == ("Accepted", None)
        await until(lambda: bool(r.service.profiles.installed()))  # once it is on disk
        item = {
            "component": {"name": "AuthCtrlr"},
            "variable": {"name": "OfflineTxForUnknownIdEnabled"},
            "attribute_value": "true",
        }
        assert r.service.handlers.set_variables([item])[0]["attribute_status"] == "Accepted"
        r.opener.refuse = True
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        r.hardware.cp_state = CpState.B
        r.changed()
        assert await r.service.present_id_tag(1, "CARD9")  # offline: allowed by the variable
        tx = r.service.active_transaction(1)
        assert tx is not None
        assert r.service.profiles.limit_at(1, tx.start + timedelta(seconds=10)).value == 8.0
        assert r.service.db.events_queued(tx.tx_key) == 1  # its Started waits for the CSMS
