"""Typed faults decide the OCPP errorCode; the metering loop sleeps until a sample is due."""

import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from ocpp_unit_rig import booted, rig, until

from controller.ocpp.meter_loop import MAX_IDLE_S, next_wake_s
from controller.ocpp.status import ERROR_CODES, connector_status
from hw.base import CpState, EvseStatus, Fault, FaultKind


def _status_of(fault: Fault) -> tuple[ChargePointStatus, ChargePointErrorCode]:
    return connector_status(
        EvseStatus(CpState.B, 0.0, False, fault=fault),
        in_transaction=False,
        operative=True,
        finishing=False,
        authorized=False,
    )


@pytest.mark.parametrize("kind", list(FaultKind))
def test_rewording_a_fault_does_not_change_the_error_code(kind):
    first = _status_of(Fault(kind, "contactor welded, meter silent, pilot in state E"))
    second = _status_of(Fault(kind, "something else entirely"))
    assert first == second == (ChargePointStatus.faulted, ERROR_CODES[kind])


def test_each_kind_has_its_error_code():
    assert (
        _status_of(Fault(FaultKind.CONTACTOR, "x"))[1] is ChargePointErrorCode.power_switch_failure
    )
    assert _status_of(Fault(FaultKind.METER, "x"))[1] is ChargePointErrorCode.power_meter_failure
    assert _status_of(Fault(FaultKind.PILOT, "x"))[1] is ChargePointErrorCode.ev_communication_error
    # Words that once picked a code by matching no longer do: only the kind counts.
    assert (
        _status_of(Fault(FaultKind.OTHER, "contactor welded"))[1]
        is ChargePointErrorCode.other_error
    )


async def test_status_notification_carries_the_kinds_code_and_the_text_as_info(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        r.hardware.fault = Fault(FaultKind.CONTACTOR, "relay stuck (reworded)")
        r.service.connector_changed(1)
        await until(lambda: r.csms.actions().count("StatusNotification") == 3)
        sent = [p for a, p, _ in r.csms.calls if a == "StatusNotification"][-1]
        assert sent["status"] == "Faulted"
        assert sent["errorCode"] == "PowerSwitchFailure"
        assert sent["info"] == "relay stuck (reworded)"


def test_next_wake_is_the_earliest_due_thing():
    idle = next_wake_s(waiting_start=False, sample_due_in_s=[], aligned_interval_s=0, wall_s=5.0)
    assert idle == MAX_IDLE_S
    assert next_wake_s(
        waiting_start=False, sample_due_in_s=[12.0, 3.0], aligned_interval_s=0, wall_s=0
    ) == pytest.approx(3.0)
    assert next_wake_s(
        waiting_start=False, sample_due_in_s=[], aligned_interval_s=900, wall_s=890.0
    ) == pytest.approx(10.01)
    assert next_wake_s(
        waiting_start=True, sample_due_in_s=[30.0], aligned_interval_s=0, wall_s=0
    ) == pytest.approx(0.2)


async def test_idle_metering_wakes_once_a_minute_not_ten_times_a_second(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        before = r.service.metering.wake_ups
        for _ in range(60):
            await r.timers.advance(60)
        woke = r.service.metering.wake_ups - before
        # One hour idle: the old fixed 0.2 s tick woke 18000 times.
        assert 55 <= woke <= 70, woke


async def test_sampled_meter_values_come_on_time_with_one_wake_up_each(tmp_path):
    async with rig(tmp_path, free_vend_id_tag="FREE") as r:
        await booted(r)
        assert (
            r.service.handlers.change_configuration("MeterValueSampleInterval", "30") == "Accepted"
        )
        r.hardware.cp_state = CpState.B
        r.service.connector_changed(1)
        await until(lambda: r.service.active_transaction(1) is not None)
        start = r.clock.monotonic()
        before = r.service.metering.wake_ups
        await r.timers.advance(29.9)
        assert "MeterValues" not in r.csms.actions()
        # Step by step: a message leaves only once its row is on disk (the writer thread runs
        # in real time), so each sample is let out before the fake clock moves on.
        await r.timers.advance(0.1)
        await until(lambda: r.csms.actions().count("MeterValues") == 1)
        for n in (2, 3):
            await r.timers.advance(30)
            await until(lambda n=n: r.csms.actions().count("MeterValues") == n)
        times = [t - start for a, _, t in r.csms.calls if a == "MeterValues"]
        assert times == [30, 60, 90]
        assert r.service.metering.wake_ups - before <= 4
