"""Configuration of the main-fuse guard: clear errors for mistakes, env overrides, wiring."""

import asyncio

import pytest

from controller.config import ConfigError, load_settings
from controller.drivers import build_station
from controller.grid import build_main_fuse
from hw.base import PilotSignal
from hw.clock import FakeClock
from hw.sim_house import SimGridMeter


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(f'[state]\ndir = "{tmp_path}"\n' + text)
    return p


def test_grid_meter_without_a_fuse_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"needs station\.main_fuse_a"):
        load_settings(write(tmp_path, '[station.grid_meter]\ntype = "sim"\n'))


def test_margin_over_the_fuse_and_odd_fallbacks_are_refused(tmp_path):
    text = '[station]\nmain_fuse_a = 10\n[station.grid_meter]\ntype = "sim"\nmargin_a = 10\n'
    with pytest.raises(ConfigError, match="margin_a must be smaller"):
        load_settings(write(tmp_path, text))
    text = (
        '[station]\nmain_fuse_a = 25\n[station.grid_meter]\ntype = "sim"\nfallback_current_a = 3\n'
    )
    with pytest.raises(ConfigError, match="0 \\(pause\\) or at least 6 A"):
        load_settings(write(tmp_path, text))
    text = '[station]\nmain_fuse_a = 25\n[station.grid_meter]\ntype = "sdm630"\n'
    with pytest.raises(ConfigError, match="exactly one of port or host"):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize(
    ("rotation", "phases", "message"),
    [
        ("L1L1L2", 3, "each of L1, L2, L3 at most once"),
        ("L4", 1, "each of L1, L2, L3 at most once"),
        ("L2", 3, "needs all three phases"),
        ("L1L2", 3, "one phase or all three"),
    ],
)
def test_bad_phase_rotation_says_how_to_write_it(tmp_path, rotation, phases, message):
    text = f'[[connector]]\nid = 1\nphases = {phases}\nphase_rotation = "{rotation}"\n'
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))


def test_sim_house_is_wired_to_the_simulated_cars(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARGECTL_STATION__MAIN_FUSE_A", "25")
    text = (
        '[station.grid_meter]\ntype = "sim"\n'
        '[[connector]]\nid = 1\nphases = 1\nphase_rotation = "l2"\n'
    )
    settings = load_settings(write(tmp_path, text))
    assert settings.station.main_fuse_a == 25
    assert settings.connector[0].phase_rotation == "L2"
    clock = FakeClock()
    hardware = build_station(settings, clock)
    fuse = build_main_fuse(settings, hardware, clock)
    assert fuse is not None and isinstance(fuse.meter, SimGridMeter)
    assert fuse.rotation(1) == (1,)
    ev = hardware[1].ev
    # The car is offered 10 A and its contactor closes: its draw shows on L2 of the house.
    ev.set_pilot(PilotSignal.pwm(10.0))
    clock.advance(1.5)
    ev.set_contactor(True)
    clock.advance(1.5)
    assert ev.drawn_current_a == 10.0
    reading = asyncio.run(fuse.meter.read_grid())
    base = fuse.meter.house.load_a()
    assert reading.current_a[1] == pytest.approx(base[1] + 10.0)
    assert reading.current_a[0] == pytest.approx(base[0])


def test_no_grid_meter_no_guard(tmp_path):
    settings = load_settings(write(tmp_path, "[station]\nmain_fuse_a = 25\n"))
    clock = FakeClock()
    assert build_main_fuse(settings, build_station(settings, clock), clock) is None


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        ("phases = 1\n[connector.phase_switch]\nwait_s = 5\n", "needs a three-phase connector"),
        (
            'driver = "modbus"\n[connector.modbus]\nboard = "heidelberg"\nhost = "h"\n'
            "[connector.phase_switch]\n",
            "board 'heidelberg' has no phase relay to switch with \\(boards that have one: none "
            "of the presets; a 'generic' board declares its relay with "
            "modbus.phase_relay_register\\)",
        ),
        (
            'driver = "modbus"\n[connector.modbus]\nboard = "openwb_satellit"\nhost = "h"\n'
            "phase_relay_register = 1\n",
            "phase_relay_\\* describe a 'generic' board's relay",
        ),
        ('driver = "sysfs_pwm"\n[connector.phase_switch]\n', "needs gpio"),
        ("[connector.phase_switch]\nwait_s = 1\n", "phase_switch.wait_s = 1: must be at least 2"),
    ],
)
def test_phase_switch_mistakes_are_explained(tmp_path, connector, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, f"[[connector]]\nid = 1\n{connector}"))


def test_a_sim_connector_with_a_phase_switch_can_switch(tmp_path):
    text = "[[connector]]\nid = 1\n[connector.phase_switch]\nwait_s = 4\nmin_interval_s = 120\n"
    settings = load_settings(write(tmp_path, text))
    hardware = build_station(settings, FakeClock())
    driver = hardware[1].driver
    assert driver.capabilities.can_switch_phases and driver.phases_in_use == 3
    plain = load_settings(write(tmp_path, "[[connector]]\nid = 1\n"))
    assert not build_station(plain, FakeClock())[1].driver.capabilities.can_switch_phases


def test_status_text_says_the_main_fuse_sets_the_offer_and_the_phases():
    from controller.status import render

    text = render(
        {
            "connectors": [
                {
                    "id": 1,
                    "limit_explanation": "main fuse: L2 at 23.8 A of 25 A",
                    "phases_in_use": 1,
                    "phase_switch": {
                        "wanted": 1,
                        "reason": "main_fuse",
                        "switches": 1,
                        "last_result": "charging on 1 phase(s)",
                    },
                }
            ]
        }
    )
    assert "  offer set by main fuse: L2 at 23.8 A of 25 A" in text
    assert "  phases: 1 in use, 1 wanted (main_fuse), 1 switch(es); charging on 1 phase(s)" in text
