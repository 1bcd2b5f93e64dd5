"""The pure parts behind issue 12 items 8, 10 and 11 and the phase keys of issue 14: feature
profiles and their configuration, key names in any case, ConnectorPhaseRotation and
ConnectorSwitch3to1PhaseSupported from the wiring, and the authorization expiry event."""

import pytest

from controller.config import ConfigError, load_settings
from controller.drivers import build_station
from controller.ocpp.config_keys import ConfigKeys, definitions
from controller.ocpp.feature_profiles import (
    CSMS_ACTIONS,
    IMPLEMENTED,
    FeatureProfile,
    parse_profiles,
    refusal,
    supported_value,
)
from controller.ocpp.outbox import OcppDb
from controller.ocpp.phase_keys import ConnectorWiring, ocpp_rotation, rotation_value
from controller.ocpp_setup import ocpp_settings
from controller.station import Authorization, ConnectorStates, EventKind, Events
from hw.clock import FakeClock

SMART = {
    "ChargeProfileMaxStackLevel": "10",
    "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "ChargingScheduleMaxPeriods": "24",
    "MaxChargingProfilesInstalled": "10",
}


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(f'[state]\ndir = "{tmp_path}"\n' + text)
    return p


# --- feature profiles ---------------------------------------------------------------------------


def test_every_csms_action_belongs_to_exactly_one_profile():
    seen = [a for actions in CSMS_ACTIONS.values() for a in actions]
    assert len(seen) == len(set(seen))
    assert set(CSMS_ACTIONS) == set(FeatureProfile)


def test_refusal_distinguishes_unknown_from_not_supported():
    core = frozenset({FeatureProfile.CORE})
    assert refusal("NoSuchAction", core, routed=False) == "NotImplemented"
    assert refusal("SetChargingProfile", core, routed=True) == "NotSupported"
    assert refusal("ReserveNow", frozenset(FeatureProfile), routed=False) == "NotSupported"
    assert refusal("BootNotification", core, routed=False) == "NotSupported"
    assert refusal("GetConfiguration", core, routed=True) is None


def test_the_configured_profiles_are_checked_and_ordered():
    assert parse_profiles(["RemoteTrigger", "Core"]) == (
        FeatureProfile.CORE,
        FeatureProfile.REMOTE_TRIGGER,
    )
    assert supported_value(IMPLEMENTED) == (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
    )
    with pytest.raises(ValueError, match="cannot be turned off"):
        parse_profiles(["SmartCharging"])
    with pytest.raises(ValueError, match="listed twice"):
        parse_profiles(["Core", "Core"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["Core", "Reservation", "Reservation"]', "'Reservation' is listed twice"),
        ('["Core", "smartcharging"]', "unknown feature profile 'smartcharging'"),
        ('["SmartCharging"]', "'Core' cannot be turned off"),
    ],
)
def test_a_wrong_feature_profile_names_the_key_and_what_is_allowed(tmp_path, value, message):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, f"[ocpp]\nfeature_profiles = {value}\n"))
    text = str(err.value)
    assert "ocpp.feature_profiles" in text and message in text
    allowed = (
        "allowed: Core, FirmwareManagement, LocalAuthListManagement, Reservation, SmartCharging,"
        " RemoteTrigger"
    )
    assert allowed in text or "twice" in text


def test_feature_profiles_reach_the_adapter(tmp_path):
    settings = load_settings(write(tmp_path, '[ocpp]\nfeature_profiles = ["Core"]\n'))
    assert ocpp_settings(settings, build_station(settings, FakeClock())).feature_profiles == (
        FeatureProfile.CORE,
    )
    default = load_settings(write(tmp_path, ""))
    assert set(default.ocpp.feature_profiles) == {p.value for p in IMPLEMENTED}


# --- key names ----------------------------------------------------------------------------------


def _keys(tmp_path, **kw):
    return ConfigKeys(OcppDb(tmp_path / "ocpp.sqlite"), definitions(2, SMART, **kw))


def test_keys_match_in_any_case_and_are_answered_in_their_own(tmp_path):
    keys = _keys(tmp_path)
    assert keys.change("metervaluesampleinterval", "15") == "Accepted"
    assert keys.get_int("MeterValueSampleInterval") == 15
    assert keys.change("NUMBEROFCONNECTORS", "3") == "Rejected"
    assert keys.change("NoSuchKey", "1") == "NotSupported"
    known, unknown = keys.listing(["METERVALUESAMPLEINTERVAL", "nosuchkey"])
    assert known == [{"key": "MeterValueSampleInterval", "readonly": False, "value": "15"}]
    assert unknown == ["nosuchkey"]


# --- phase keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phases", "rotation", "ocpp"),
    [
        (3, "L1L2L3", "RST"),
        (3, "L2L3L1", "STR"),
        (3, "L3L1L2", "TRS"),
        (3, "L1L3L2", "RTS"),
        (3, None, "Unknown"),
        (1, "L2", "NotApplicable"),
        (1, None, "NotApplicable"),
    ],
)
def test_rotation_in_the_spec_notation(phases, rotation, ocpp):
    assert ocpp_rotation(phases, rotation) == ocpp


def test_phase_keys_follow_the_configuration(tmp_path):
    text = (
        '[[connector]]\nid = 1\nphase_rotation = "L2L3L1"\n[connector.phase_switch]\n'
        '[[connector]]\nid = 2\nphases = 1\nphase_rotation = "L3"\n'
    )
    settings = load_settings(write(tmp_path, text))
    o = ocpp_settings(settings, build_station(settings, FakeClock()))
    assert o.phase_rotation == "1.STR,2.NotApplicable"
    assert o.switch_3to1_supported is False  # connector 2 cannot switch
    one = load_settings(write(tmp_path, "[[connector]]\nid = 1\n[connector.phase_switch]\n"))
    o = ocpp_settings(one, build_station(one, FakeClock()))
    assert o.phase_rotation == "1.Unknown"  # the file does not say how it is wired
    assert o.switch_3to1_supported is True
    plain = load_settings(write(tmp_path, "[[connector]]\nid = 1\n"))
    assert ocpp_settings(plain, build_station(plain, FakeClock())).switch_3to1_supported is False


def test_the_csms_may_fill_in_an_unknown_rotation_but_not_contradict_the_wiring(tmp_path):
    wired = rotation_value(
        [ConnectorWiring(1, 3, "L2L3L1", False), ConnectorWiring(2, 3, None, False)]
    )
    keys = _keys(tmp_path, rotation=wired, switch_3to1=True)
    assert keys.get("ConnectorPhaseRotation") == "1.STR,2.Unknown"
    assert keys.get("ConnectorSwitch3to1PhaseSupported") == "true"
    assert keys.change("ConnectorSwitch3to1PhaseSupported", "false") == "Rejected"
    assert keys.change("ConnectorPhaseRotation", "1.RST,2.RST") == "Rejected"
    assert keys.change("ConnectorPhaseRotation", "1.STR,2.RTS") == "Accepted"
    assert keys.get("ConnectorPhaseRotation") == "1.STR,2.RTS"
    # A stored value the wiring now contradicts (the installer rewired) is ignored.
    rewired = rotation_value(
        [ConnectorWiring(1, 3, "L1L2L3", False), ConnectorWiring(2, 3, None, False)]
    )
    again = ConfigKeys(OcppDb(tmp_path / "ocpp.sqlite"), definitions(2, SMART, rotation=rewired))
    assert again.get("ConnectorPhaseRotation") == "1.RST,2.Unknown"


# --- ConnectionTimeOut as an event --------------------------------------------------------------


class _Store:
    def __init__(self):
        self.items = {}

    def config_items(self):
        return dict(self.items)

    def set_config(self, key, value):
        self.items[key] = value


def test_an_authorization_expires_as_an_event_at_its_time():
    clock = FakeClock()
    events = Events()
    seen = []
    events.subscribe(lambda e: seen.append((e.kind, e.connector_id)))
    states = ConnectorStates([1, 2], _Store(), events)
    now = clock.monotonic()
    states.authorize(1, Authorization("A", None, now + 60))
    states.authorize(2, Authorization("B", None, now + 90))
    clock.advance(59.9)
    assert states.expire(clock.monotonic()) == [] and seen == []
    clock.advance(0.1)
    assert states.expire(clock.monotonic()) == [1]
    assert seen == [(EventKind.AUTHORIZATION_EXPIRED, 1)]
    assert not states.authorized(1) and states.authorized(2)
    assert states.expire(clock.monotonic()) == []  # once
    clock.advance(30)
    assert states.expire(clock.monotonic()) == [2]


def test_the_service_lists_firmware_management_once_it_is_set_up(tmp_path):
    from controller.app import Charger

    settings = load_settings(write(tmp_path, "[web]\nenabled = false\n"))
    charger = Charger(settings)
    try:
        keys = charger.ocpp.keys
        assert keys.get("SupportedFeatureProfiles") == (
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
            "RemoteTrigger"
        )
        assert keys.get("ConnectorPhaseRotation") == "1.Unknown"
    finally:
        charger.ocpp.db.close()
        charger.profiles.close()


def test_a_phase_switch_whose_hardware_is_missing_at_start_is_still_declared(tmp_path):
    # No PWM chip on this machine: the service's stand-in driver retries the Pi's pilot,
    # and the phase keys say what the configuration promises meanwhile.
    text = '[[connector]]\nid = 1\ndriver = "sysfs_pwm"\n[connector.phase_switch]\ngpio = 23\n'
    settings = load_settings(write(tmp_path, text))
    hardware = build_station(settings, FakeClock())
    wrapped = hardware[1].driver
    if getattr(wrapped, "hardware", None) is not None:
        pytest.skip("this machine has the PWM hardware")
    assert ocpp_settings(settings, hardware).switch_3to1_supported is True
