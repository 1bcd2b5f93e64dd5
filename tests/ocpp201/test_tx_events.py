"""The pure parts of 2.0.1 TransactionEvents and the first device-model variables."""

from __future__ import annotations

from datetime import UTC, datetime

from controller.ocpp.settings import OcppSettings
from controller.ocpp201 import tx_events as te
from controller.ocpp201 import variables as v
from controller.ocpp201.device_model import live_values, security_profile
from controller.smart_charging import ProfileStore, SmartChargingConfig
from controller.station import ConnectorSnapshot, ConnectorStates, Events, StopReason
from hw.base import CpState, EvseStatus, MeterSample
from hw.clock import FakeClock

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_charging_state_follows_what_the_hardware_does():
    state = te.charging_state
    assert state(EvseStatus(CpState.A, 0.0, False)) is te.ChargingState.IDLE
    assert state(EvseStatus(CpState.C, 0.0, False)) is te.ChargingState.SUSPENDED_EVSE
    assert state(EvseStatus(CpState.B, 16.0, False)) is te.ChargingState.SUSPENDED_EV
    assert state(EvseStatus(CpState.C, 16.0, True)) is te.ChargingState.CHARGING


def test_a_pause_by_a_0_a_limit_is_a_rate_change_any_other_a_state_change():
    pause = te.ChargingState.SUSPENDED_EVSE
    assert te.change_trigger(pause, 0.0) is te.Trigger.CHARGING_RATE_CHANGED
    assert te.change_trigger(pause, None) is te.Trigger.CHARGING_STATE_CHANGED
    assert te.change_trigger(te.ChargingState.CHARGING, 16.0) is te.Trigger.CHARGING_STATE_CHANGED


def test_start_trigger_is_the_most_specific_cause():
    assert te.start_trigger(remote=True, plugged_last=True) is te.Trigger.REMOTE_START
    assert te.start_trigger(remote=False, plugged_last=True) is te.Trigger.CABLE_PLUGGED_IN
    assert te.start_trigger(remote=False, plugged_last=False) is te.Trigger.AUTHORIZED


def test_every_stop_reason_has_a_2_0_1_reason_and_trigger():
    assert set(te.STOPPED) == set(StopReason)
    assert te.STOPPED[StopReason.REMOTE] == ("Remote", te.Trigger.REMOTE_STOP)
    assert te.STOPPED[StopReason.EV_DISCONNECTED] == ("EVDisconnected", te.Trigger.EV_DEPARTED)


def test_sampled_values_are_numbers_with_units_and_nothing_from_a_nan_meter():
    meter = MeterSample(1234.56, 3680.0, (16.0, 0.0, 0.0), (230.0, 0.0, 0.0))
    snap = ConnectorSnapshot(1, EvseStatus(CpState.C, 16.0, True), 16.0, meter)
    values = te.sampled_values(
        snap, ("Energy.Active.Import.Register", "Current.Offered"), "Trigger"
    )
    assert values[0] == {
        "value": 1234.6,
        "context": "Trigger",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit_of_measure": {"unit": "Wh"},
    }
    assert values[1]["value"] == 16.0
    broken = ConnectorSnapshot(
        1,
        EvseStatus(CpState.C, 16.0, True),
        16.0,
        MeterSample(float("nan"), 0.0, (0, 0, 0), (0, 0, 0)),
    )
    measurands = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Offered")
    assert [s["measurand"] for s in te.sampled_values(broken, measurands, "Trigger")] == [
        "Current.Offered"
    ]


def test_a_transaction_event_carries_only_what_it_has():
    payload = te.transaction_event(
        "Updated", at=T0, trigger=te.Trigger.METER_VALUE_PERIODIC, transaction_id="T"
    )
    assert payload == {
        "event_type": "Updated",
        "timestamp": "2026-05-01T10:00:00.000Z",
        "trigger_reason": "MeterValuePeriodic",
        "transaction_info": {"transaction_id": "T"},
    }


class Memory:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def config_items(self) -> dict[str, str]:
        return dict(self.items)

    def set_config(self, key: str, value: str) -> None:
        self.items[key] = value


def _item(component, variable, value=None):
    out = {"component": {"name": component}, "variable": {"name": variable}}
    return out if value is None else out | {"attribute_value": value}


def test_variables_are_checked_persisted_and_read_back():
    store = Memory()
    variables = v.Variables(store)
    assert variables.get_int(v.TX_UPDATED_INTERVAL) == 60
    ok = variables.set_result(_item("SampledDataCtrlr", "TxUpdatedInterval", "5"))
    assert ok["attribute_status"] == "Accepted"
    assert v.Variables(store).get_int(v.TX_UPDATED_INTERVAL) == 5  # after a restart
    bad = variables.set_result(_item("SampledDataCtrlr", "TxUpdatedInterval", "soon"))
    assert bad["attribute_status"] == "Rejected"
    read_only = variables.set_result(_item("TxCtrlr", "TxStartPoint", "Authorized"))
    assert read_only["attribute_status"] == "Rejected"
    measurands = variables.set_result(_item("SampledDataCtrlr", "TxUpdatedMeasurands", "SoC"))
    assert measurands["attribute_status"] == "Rejected"
    assert variables.set_result(_item("NoSuchCtrlr", "X", "1"))["attribute_status"] == (
        "UnknownComponent"
    )
    assert variables.get_result(_item("TxCtrlr", "Nope"))["attribute_status"] == "UnknownVariable"
    got = variables.get_result(_item("SampledDataCtrlr", "TxUpdatedInterval"))
    assert (got["attribute_status"], got["attribute_value"]) == ("Accepted", "5")
    target = _item("SampledDataCtrlr", "TxUpdatedInterval") | {"attribute_type": "Target"}
    assert variables.get_result(target)["attribute_status"] == "NotSupportedAttributeType"


def test_instances_and_live_values_in_the_device_model():
    clock = FakeClock(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    profiles = ProfileStore(SmartChargingConfig(phases=1, number_of_connectors=1))
    settings = OcppSettings(url="wss://csms.example", charge_point_id="CS", password="pw")
    connectors = ConnectorStates([1], Memory(), Events())
    status = {1: "Occupied"}
    live = live_values(settings, profiles, clock, connectors, status.__getitem__, [1])
    variables = v.Variables(Memory(), live)

    timeout = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "MessageTimeout", "instance": "Default"},
    }
    assert variables.get_result(timeout)["attribute_value"] == "30"
    attempts = _item("OCPPCommCtrlr", "MessageAttempts")
    attempts["variable"]["instance"] = "TransactionEvent"
    assert variables.get_result(attempts)["attribute_value"] == "3"
    assert (
        variables.get_result(_item("OCPPCommCtrlr", "MessageAttempts"))["attribute_status"]
        == "UnknownVariable"
    )  # the instance is part of the name
    assert variables.get_result(_item("ClockCtrlr", "DateTime"))["attribute_value"] == (
        "2026-05-01T10:00:00.000Z"
    )
    assert variables.get_result(_item("SecurityCtrlr", "SecurityProfile"))["attribute_value"] == "2"
    assert variables.get_result(_item("ChargingStation", "SupplyPhases"))["attribute_value"] == "1"
    entries = _item("SmartChargingCtrlr", "Entries")
    entries["variable"]["instance"] = "ChargingProfiles"
    assert variables.get_result(entries)["attribute_value"] == "0"
    connectors.set_operative(1, False)
    state = variables.get_result(_item("ChargingStation", "AvailabilityState"))
    assert state["attribute_value"] == "Unavailable"
    plug = {
        "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
        "variable": {"name": "AvailabilityState"},
    }
    assert variables.get_result(plug)["attribute_value"] == "Occupied"
    evse = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
    assert variables.get_result(evse)["attribute_value"] == "7360"  # 32 A x 1 x 230 V
    evse["component"]["evse"]["id"] = 2
    assert variables.get_result(evse)["attribute_status"] == "UnknownComponent"
    refused = variables.set_result(_item("ClockCtrlr", "DateTime", "2030-01-01T00:00:00Z"))
    assert refused["attribute_status"] == "Rejected"
    report = variables.report_data("FullInventory")
    assert report is not None
    named = {
        (d["component"]["name"], d["variable"]["name"], d["variable"].get("instance"))
        for d in report
    }
    assert ("OCPPCommCtrlr", "MessageTimeout", "Default") in named
    assert ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent") in named
    assert ("ClockCtrlr", "DateTime", None) in named
    located = [d["component"] for d in report if d["component"]["name"] == "Connector"]
    assert {"name": "Connector", "evse": {"id": 1, "connector_id": 1}} in located
    assert security_profile(OcppSettings(url="ws://x", charge_point_id="CS")) == 0
