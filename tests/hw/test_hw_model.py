"""One station model: drivers registered by name in one table, every pilot and simulator setting
reachable from the configuration with its default defined once, buses shared per station."""

import asyncio
import dataclasses
import subprocess
import sys
import textwrap
from typing import get_args

import attrs
import pytest

from controller.config import (
    ConfigError,
    DriverName,
    PilotBandsSection,
    PilotSection,
    Settings,
    SimulatorSection,
    load_settings,
)
from controller.drivers import DRIVERS, build_station, pilot_config
from hw.clock import FakeClock
from hw.iec61851 import CpBands
from hw.pilot import PilotConfig
from hw.sim import SimulatorSettings

FROM_CONNECTOR = {"max_current_a"}  # the connector's rating
SIM_FROM_ELSEWHERE = {"phases", "voltage_v"}  # the connector's phases, the station's voltage


def _other(value, name):
    """A valid non-default value for a setting, to see it arrive."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    bumped = {"poll_interval_s": 0.04, "fault_f_s": 0.4, "diode_low_max_v": -11.2}
    return bumped.get(name, round(value * 1.1 + 0.1, 3))


def test_every_registered_driver_is_a_config_choice_and_back():
    assert set(DRIVERS) == set(get_args(DriverName))


def test_an_unknown_driver_is_a_config_error_naming_the_allowed_ones(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[connector]]\nid = 1\ndriver = "pigpio"\n')
    r = subprocess.run(
        [sys.executable, "-m", "controller", "check-config", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 78
    assert "connector[0].driver = 'pigpio'" in r.stderr
    for name in DRIVERS:
        assert f"'{name}'" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_pilot_section_mirrors_every_pilot_setting_with_the_same_defaults():
    machine = {f.name for f in dataclasses.fields(PilotConfig)} - FROM_CONNECTOR
    assert set(attrs.fields_dict(PilotSection)) == machine
    assert set(attrs.fields_dict(PilotBandsSection)) == {
        f.name for f in dataclasses.fields(CpBands)
    }
    default = PilotConfig()
    built = pilot_config(Settings(), Settings().connector[0])
    assert built == dataclasses.replace(default, max_current_a=32.0)


def test_every_pilot_setting_set_in_the_file_reaches_the_state_machine(tmp_path):
    default = PilotConfig()
    wanted = {
        f.name: _other(getattr(default, f.name), f.name)
        for f in dataclasses.fields(PilotConfig)
        if f.name not in FROM_CONNECTOR | {"bands"}
    }
    wanted["idle_poll_interval_s"] = 0.3
    bands = {
        f.name: _other(getattr(default.bands, f.name), f.name)
        for f in dataclasses.fields(CpBands)
        if f.name == "diode_low_max_v" or f.name == "hysteresis_v"
    }
    lines = ["[pilot]"] + [f"{k} = {str(v).lower()}" for k, v in wanted.items()]
    lines += ["[pilot.bands]"] + [f"{k} = {v}" for k, v in bands.items()]
    lines += ["[[connector]]", "id = 1", "max_current_a = 20"]
    cfg = tmp_path / "c.toml"
    cfg.write_text("\n".join(lines) + "\n")
    settings = load_settings(cfg)
    built = pilot_config(settings, settings.connector[0])
    for name, value in wanted.items():
        assert getattr(built, name) == value, name
        assert value != getattr(default, name), name
    for name, value in bands.items():
        assert getattr(built.bands, name) == value, name
    assert built.max_current_a == 20


def test_every_simulator_setting_is_a_config_key_with_the_same_default(tmp_path):
    car = {f.name for f in dataclasses.fields(SimulatorSettings)} - SIM_FROM_ELSEWHERE
    assert set(attrs.fields_dict(SimulatorSection)) == car
    assert all(
        attrs.fields_dict(SimulatorSection)[n].default == getattr(SimulatorSettings(), n)
        for n in car
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent("""
        [station]
        voltage_v = 240
        [simulator]
        plugged_in = false
        ev_max_current_a = 20
        ev_response_s = 0.5
        ev_sleep_after_pause_s = 60
        ev_ignores_pause = true
        [[connector]]
        id = 1
        phases = 1
        """)
    )
    hw = build_station(load_settings(cfg), FakeClock())[1]
    assert hw.ev.settings == SimulatorSettings(
        plugged_in=False,
        ev_max_current_a=20,
        ev_response_s=0.5,
        ev_sleep_after_pause_s=60,
        ev_ignores_pause=True,
        phases=1,
        voltage_v=240,
    )


def test_inconsistent_pilot_settings_are_a_config_error_not_a_crash(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[pilot]\nidle_poll_interval_s = 0.05\npoll_interval_s = 0.05\n")
    load_settings(cfg)  # equal is fine
    cfg.write_text("[pilot.bands]\nc_min_v = 8.0\n")  # above B's lower edge
    with pytest.raises(ConfigError, match=r"pilot\.bands"):
        load_settings(cfg)


def _modbus_station(tmp_path, boards, poll_interval_s=1.0, baud=9600):
    parts = []
    for i in range(1, boards + 1):
        parts.append(
            textwrap.dedent(f"""
            [[connector]]
            id = {i}
            driver = "modbus"
            [connector.modbus]
            port = "/dev/ttyUSB0"
            device_id = {i}
            baudrate = {baud}
            poll_interval_s = {poll_interval_s}
            [connector.meter]
            type = "sdm630"
            port = "/dev/ttyUSB0"
            device_id = {100 + i}
            baudrate = {baud}
            """)
        )
    cfg = tmp_path / "station.toml"
    cfg.write_text("\n".join(parts))
    return cfg


def _check_config(cfg):
    return subprocess.run(
        [sys.executable, "-m", "controller", "check-config", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_config_refuses_a_saturated_line_with_the_numbers(tmp_path):
    ok = _check_config(_modbus_station(tmp_path, 1))
    assert ok.returncode == 0, ok.stderr
    r = _check_config(_modbus_station(tmp_path, 3, poll_interval_s=0.2))
    assert r.returncode == 78
    assert "Modbus line /dev/ttyUSB0 (9600 baud" in r.stderr
    assert "21.0 requests/s" in r.stderr  # 3 x (5 board polls + 2 meter reads) a second
    assert "bus time" in r.stderr and "(at most 90%)" in r.stderr
    assert "poll_interval_s" in r.stderr
    assert "Traceback" not in r.stderr


def test_devices_on_one_line_must_agree_on_its_baud_rate(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent("""
        [[connector]]
        id = 1
        driver = "modbus"
        [connector.modbus]
        port = "/dev/ttyUSB0"
        [connector.meter]
        type = "sdm630"
        port = "/dev/ttyUSB0"
        device_id = 2
        baudrate = 19200
        """)
    )
    with pytest.raises(ConfigError, match="one line has one setting"):
        load_settings(cfg)


def test_connectors_on_one_line_share_its_bus_and_stations_do_not(tmp_path):
    settings = load_settings(_modbus_station(tmp_path, 2))

    async def build():  # the serial client wants a running event loop
        return build_station(settings, FakeClock()), build_station(settings, FakeClock())

    a, b = asyncio.run(build())
    # The service wraps each board so that a missing one is retried; the wrapper builds it.
    board_a1, board_a2, board_b1 = a[1].driver.hardware, a[2].driver.hardware, b[1].driver.hardware
    bus = board_a1.bus
    assert board_a2.bus is bus and a[1].meter.bus is bus and a[2].meter.bus is bus
    assert board_b1.bus is not bus
    assert bus.gap_s == 0.1  # the boards' gap, not the meters' shorter one
    assert board_a1.poll_interval_s() == 1.0
    for station in (a, b):
        for hw in station.values():
            hw.driver.hardware.bus.close()
