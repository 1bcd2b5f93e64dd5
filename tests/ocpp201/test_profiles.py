"""2.0.1 charging profiles -> the shared store: the rules where 2.0.1 differs from 1.6, and the
converted profile doing in the real store what the CSMS asked (on a fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.ocpp201.profiles import (
    Converted,
    Reason,
    Refusal,
    composite_to_v201,
    to_store,
)
from controller.smart_charging import ProfileStore, SmartChargingConfig

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
TX = "5d0c2d6e-3c4b-4d8a-9a57-0f6f4b1f2a10"


def profile(**overrides):
    """A TxProfile as the library hands it: snake_case, floats."""
    p = {
        "id": 1001,
        "stack_level": 1,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "transaction_id": TX,
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 0.0}],
            }
        ],
    }
    p.update(overrides)
    return p


def convert(p, evse_id=1, **kw):
    kw.setdefault("evse_ids", [1])
    kw.setdefault("open_transactions", {1: TX})
    return to_store(evse_id, p, **kw)


def refused(result) -> Reason:
    assert isinstance(result, Refusal), result
    return result.reason


def test_the_seed_pause_becomes_a_1_6_tx_profile_without_the_string_id():
    result = convert(profile())
    assert result == Converted(
        1,
        {
            "chargingProfileId": 1001,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}],
            },
        },
    )


def test_camel_case_is_read_as_well():
    camel = {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 3,
                "startSchedule": "2026-05-01T10:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400, "numberPhases": 1}],
            }
        ],
    }
    result = convert(camel)
    assert isinstance(result, Converted)
    assert result.profile["chargingSchedule"]["startSchedule"] == "2026-05-01T10:00:00Z"
    assert result.profile["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"] == 1


def test_a_tx_profile_needs_the_running_transaction_of_that_evse():
    assert refused(convert(profile(transaction_id=None))) is Reason.TX_NOT_FOUND
    assert refused(convert(profile(transaction_id="other"))) is Reason.TX_NOT_FOUND
    assert refused(convert(profile(), open_transactions={})) is Reason.TX_NOT_FOUND
    assert refused(convert(profile(), evse_id=0)) is Reason.INVALID_PROFILE


def test_an_unknown_evse_is_rejected():
    result = convert(profile(), evse_id=2)
    assert refused(result) is Reason.UNKNOWN_EVSE
    assert result.status_info() == {
        "reason_code": "UnknownEVSE",
        "additional_info": "evseId 2 does not exist",
    }


def test_station_max_profile_goes_on_evse_0_only_and_is_never_relative():
    absolute = profile(
        charging_profile_purpose="ChargingStationMaxProfile",
        charging_profile_kind="Absolute",
        transaction_id=None,
    )
    absolute["charging_schedule"][0]["start_schedule"] = "2026-05-01T00:00:00Z"
    ok = convert(absolute, evse_id=0)
    assert isinstance(ok, Converted)
    assert ok.profile["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert refused(convert(absolute, evse_id=1)) is Reason.INVALID_PROFILE
    relative = profile(charging_profile_purpose="ChargingStationMaxProfile", transaction_id=None)
    assert refused(convert(relative, evse_id=0)) is Reason.INVALID_PROFILE


def test_external_constraints_are_never_set_by_the_csms():
    p = profile(charging_profile_purpose="ChargingStationExternalConstraints", transaction_id=None)
    assert refused(convert(p, evse_id=0)) is Reason.INVALID_PROFILE


def test_transaction_id_only_in_a_tx_profile():
    p = profile(charging_profile_purpose="TxDefaultProfile")
    assert refused(convert(p)) is Reason.INVALID_PROFILE


def test_exactly_one_schedule_and_start_schedule_by_kind():
    two = profile()
    two["charging_schedule"] = two["charging_schedule"] * 2
    assert refused(convert(two)) is Reason.INVALID_SCHEDULE
    assert refused(convert(profile(charging_schedule=[]))) is Reason.INVALID_SCHEDULE
    relative_with_start = profile()
    relative_with_start["charging_schedule"][0]["start_schedule"] = "2026-05-01T00:00:00Z"
    assert refused(convert(relative_with_start)) is Reason.INVALID_SCHEDULE
    absolute_without = profile(charging_profile_kind="Absolute")
    assert refused(convert(absolute_without)) is Reason.INVALID_SCHEDULE


def test_phase_to_use_is_not_supported():
    p = profile()
    p["charging_schedule"][0]["charging_schedule_period"][0] |= {
        "number_phases": 1,
        "phase_to_use": 2,
    }
    assert refused(convert(p)) is Reason.UNSUPPORTED


def test_limits_are_rounded_to_one_decimal():
    p = profile()
    p["charging_schedule"][0]["charging_schedule_period"][0]["limit"] = 16.04
    result = convert(p)
    assert isinstance(result, Converted)
    assert result.profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.0


def test_a_remote_start_profile_has_no_transaction_id_yet():
    ok = convert(profile(transaction_id=None), open_transactions={}, remote_start=True)
    assert isinstance(ok, Converted)
    assert refused(convert(profile(), open_transactions={}, remote_start=True)) is (
        Reason.INVALID_PROFILE
    )
    default = profile(charging_profile_purpose="TxDefaultProfile", transaction_id=None)
    assert refused(convert(default, remote_start=True)) is Reason.INVALID_PROFILE


@pytest.fixture
def store(tmp_path):
    s = ProfileStore(SmartChargingConfig(number_of_connectors=1), tmp_path / "profiles.sqlite")
    yield s
    s.close()


def _set(store, p, now, evse_id=1):
    converted = to_store(
        evse_id, p, evse_ids=[1], open_transactions={1: TX}, installed=store.installed()
    )
    if isinstance(converted, Refusal):
        return converted
    return store.set_charging_profile(converted.connector_id, converted.profile, now)


def test_the_seed_story_in_the_shared_store_pause_then_resume(store):
    store.transaction_started(1, None, T0)
    assert _set(store, profile(), T0).accepted
    assert store.limit_at(1, T0 + timedelta(seconds=1)).value == 0.0
    resume = profile(id=1002, stack_level=10)
    resume["charging_schedule"][0]["charging_schedule_period"][0]["limit"] = 16.0
    assert _set(store, resume, T0 + timedelta(seconds=30)).accepted
    assert store.limit_at(1, T0 + timedelta(seconds=31)).value == 16.0
    # the same stack level and purpose with another id: 2.0.1 refuses, 1.6 would replace
    clash = profile(id=1003, stack_level=10)
    assert refused(_set(store, clash, T0 + timedelta(seconds=40))) is Reason.DUPLICATE_PROFILE
    # the same id replaces (K01.FR.05)
    again = profile(id=1002, stack_level=10)
    assert _set(store, again, T0 + timedelta(seconds=50)).accepted
    assert store.limit_at(1, T0 + timedelta(seconds=51)).value == 0.0
    composite = store.composite_schedule(1, T0 + timedelta(seconds=60), 600, "A")
    assert composite is not None
    assert composite_to_v201(composite, 1) == {
        "evse_id": 1,
        "duration": 600,
        "schedule_start": "2026-05-01T10:01:00Z",
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": 0.0}],
    }
    store.transaction_stopped(1)  # the TxProfiles end with their transaction (K02.FR.05)
    assert store.installed() == []


def test_tx_default_on_evse_0_and_on_an_evse_at_the_same_level_clash(store):
    default = profile(
        id=20, stack_level=2, charging_profile_purpose="TxDefaultProfile", transaction_id=None
    )
    assert _set(store, default, T0, evse_id=0).accepted
    on_evse = {**default, "id": 21}
    assert refused(_set(store, on_evse, T0, evse_id=1)) is Reason.DUPLICATE_PROFILE
    other_level = {**default, "id": 22, "stack_level": 3}
    assert _set(store, other_level, T0, evse_id=1).accepted
    back_on_0 = {**default, "id": 23, "stack_level": 3}
    assert refused(_set(store, back_on_0, T0, evse_id=0)) is Reason.DUPLICATE_PROFILE
