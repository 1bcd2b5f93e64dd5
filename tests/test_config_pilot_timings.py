"""The `[pilot]` timings that docs/hardware.md documents are configuration keys that reach the
pilot state machine: a simulated connector built from the configuration follows them."""

import textwrap

import pytest

from controller.config import ConfigError, load_settings
from controller.drivers import build_connector, pilot_config
from hw.clock import FakeClock

POLL_S = 0.05


def _settings(tmp_path, pilot):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            [pilot]
            {pilot}
            [[connector]]
            id = 1
            driver = "sim"
            [simulator]
            ev_response_s = 0.2
            """
        )
    )
    return load_settings(cfg)


async def _timings(settings):
    """Seconds from start to the first offer, and from the car's C to the contactor closing."""
    clock = FakeClock()
    hw = build_connector(settings, settings.connector[0], clock, buses={})
    driver, ev = hw.driver, hw.ev
    await driver.start()
    await driver.set_limit(16)
    t = 0.0
    status = await driver.poll()
    while status.offered_a == 0:
        assert t < 30
        clock.advance(POLL_S)
        t += POLL_S
        status = await driver.poll()
    first_offer_s = t
    while not ev.requesting:
        assert t < 60
        clock.advance(POLL_S)
        t += POLL_S
        status = await driver.poll()
    c_at = t
    while not status.contactor_closed:
        assert t < 60
        clock.advance(POLL_S)
        t += POLL_S
        status = await driver.poll()
    await driver.close()
    return first_offer_s, t - c_at


async def test_startup_hold_and_c_debounce_come_from_the_configuration(tmp_path):
    default = _settings(tmp_path, "")
    tuned = _settings(tmp_path, "startup_hold_s = 1.0\nc_enter_debounce_s = 2.0")
    offer_default_s, close_default_s = await _timings(default)
    offer_tuned_s, close_tuned_s = await _timings(tuned)
    assert offer_default_s == pytest.approx(3.0, abs=0.2)
    assert offer_tuned_s == pytest.approx(1.0, abs=0.2)
    assert close_default_s == pytest.approx(0.5, abs=0.2)
    assert close_tuned_s == pytest.approx(2.0, abs=0.2)


def test_capped_min_pause_reaches_the_pilot_config(tmp_path):
    settings = _settings(tmp_path, "max_interruptions_per_session = 2\ncapped_min_pause_s = 120")
    cfg = pilot_config(settings, settings.connector[0])
    assert (cfg.max_interruptions_per_session, cfg.capped_min_pause_s) == (2, 120.0)


def test_a_capped_pause_shorter_than_the_normal_pause_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        _settings(tmp_path, "min_pause_s = 60\ncapped_min_pause_s = 30")
    assert "pilot.capped_min_pause_s" in str(err.value) or "capped_min_pause_s (30 s)" in str(
        err.value
    )
