"""`CHARGECTL_*` variables over the file: keys by `__`, tables and lists as JSON, text read as
the key's type, and every mistake named by its variable or key."""

from __future__ import annotations

import os

import pytest

from controller.config import ConfigError, load_settings


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("CHARGECTL_"):
            monkeypatch.delenv(name)
    path = tmp_path / "c.toml"
    path.write_text('[ocpp]\ncharge_point_id = "FILE"\nvendor = "from-file"\n')
    return path


def test_keys_merge_into_the_file_and_text_becomes_numbers_and_booleans(cfg, monkeypatch):
    monkeypatch.setenv("CHARGECTL_OCPP__CHARGE_POINT_ID", "ENV")
    monkeypatch.setenv("chargectl_web__enabled", "false")  # any case, as systemd passes it
    monkeypatch.setenv("CHARGECTL_SIMULATOR__EV_RESPONSE_S", "2.5")
    monkeypatch.setenv("CHARGECTL_PILOT__MAX_INTERRUPTIONS_PER_SESSION", "3")
    s = load_settings(cfg)
    assert s.ocpp.charge_point_id == "ENV"
    assert s.ocpp.vendor == "from-file"  # the rest of the file's [ocpp] stays
    assert s.web.enabled is False
    assert s.simulator.ev_response_s == 2.5
    assert s.pilot.max_interruptions_per_session == 3


def test_tables_and_lists_are_json(cfg, monkeypatch):
    monkeypatch.setenv("CHARGECTL_CONNECTOR", '[{"id": 1}, {"id": 2, "max_current_a": 16}]')
    monkeypatch.setenv("CHARGECTL_STATION__GRID_METER", '{"type": "sim"}')
    monkeypatch.setenv("CHARGECTL_STATION__MAIN_FUSE_A", "25")
    s = load_settings(cfg)
    assert [c.max_current_a for c in s.connector] == [32.0, 16.0]
    assert s.station.grid_meter.type == "sim" and s.station.main_fuse_a == 25.0


def test_other_chargectl_variables_are_not_configuration(cfg, monkeypatch):
    monkeypatch.setenv("CHARGECTL_SYSFS_ROOT", "/tmp/sys")
    monkeypatch.setenv("CHARGECTL_ENV_FILE", "/tmp/none")
    assert load_settings(cfg).ocpp.charge_point_id == "FILE"


@pytest.mark.parametrize(
    ("name", "value", "expect"),
    [
        ("CHARGECTL_CONNECTOR", "[{id: 1}]", "CHARGECTL_CONNECTOR: not valid JSON"),
        ("CHARGECTL_CONNECTOR__ID", "2", "CHARGECTL_CONNECTOR__ID: connector is set whole"),
        ("CHARGECTL_OCPP__URLL", "ws://x", "ocpp.urll = ****: unknown key"),
        ("CHARGECTL_SIMULATOR__EV_RESPONSE_S", "soon", "must be a number, not 'soon'"),
        ("CHARGECTL_WEB__ENABLED", "maybe", "web.enabled = 'maybe': must be true or false"),
        ("CHARGECTL_SIMULATOR__EV_SLEEP_AFTER_PAUSE_S", "inf", "must be a finite number"),
    ],
)
def test_a_bad_variable_is_named(cfg, monkeypatch, name, value, expect):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert expect in str(err.value)


def test_every_mistake_is_listed_at_once_and_nothing_is_coerced_silently(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[simulator]\nplugged_in = 1\n[[connector]]\nid = 1.5\nphases = 2\n"
        "[ocpp]\nvendor = 7\n"
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    lines = str(err.value).splitlines()[1:]
    assert "  simulator.plugged_in = 1: must be true or false, not 1" in lines
    assert "  connector[0].id = 1.5: must be a whole number, not 1.5" in lines
    assert "  connector[0].phases = 2: must be one of 1 or 3" in lines
    assert "  ocpp.vendor = 7: must be text (in quotes), not int" in lines
    assert len(lines) == 4
