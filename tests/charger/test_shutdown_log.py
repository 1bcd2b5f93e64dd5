"""The control loop's shutdown says in the log whether every output reached the safe state."""

import asyncio
import logging

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.clock import FakeClock
from hw.sim import SimulatorSettings, build_sim_connector


def _loop():
    clock = FakeClock()
    driver, meter, _ev = build_sim_connector(SimulatorSettings(), clock, 32.0)
    unit = ConnectorUnit(1, driver, meter, 32.0)
    loop = ControlLoop(
        [unit],
        ProfileStore(SmartChargingConfig()),
        clock,
        permit=lambda c: True,
        session_start=lambda c: None,
        on_change=lambda c: None,
    )
    return loop, driver


def _shutdown_twice(loop, driver, before=lambda: None):
    async def go():
        await driver.start()
        before()
        await loop.shutdown()
        await loop.shutdown()  # the service's exit paths may call it again

    asyncio.run(go())


def test_a_clean_shutdown_logs_the_safe_state_once(caplog):
    loop, driver = _loop()
    with caplog.at_level(logging.INFO):
        _shutdown_twice(loop, driver)
    lines = [r for r in caplog.records if "safe state" in r.getMessage()]
    assert [r.getMessage() for r in lines] == [
        "connector 1: safe state: pilot +12 V without PWM, contactor open"
    ]
    assert lines[0].levelno == logging.INFO


def test_a_contactor_that_does_not_open_is_not_reported_safe(caplog):
    loop, driver = _loop()

    def stuck(closed):
        raise OSError("relay driver gone")

    def break_the_relay():
        driver.contactor.set_closed = stuck

    with caplog.at_level(logging.INFO):
        _shutdown_twice(loop, driver, break_the_relay)
    messages = [r.getMessage() for r in caplog.records]
    assert "connector 1: the safe state is NOT confirmed" in messages
    assert not any("contactor open" in m for m in messages)
