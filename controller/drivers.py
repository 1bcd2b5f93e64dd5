"""Which hardware a connector uses: configuration in, driver and meter out.

The only place that maps a `driver = "..."` name to code, so adding a board means one entry
here. Drivers are imported lazily: a Pi without pymodbus wiring never imports the Modbus code,
and a laptop running the simulator never touches gpiozero.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.config import ConnectorSection, Settings
from hw.base import EvseDriver, Meter
from hw.clock import Clock
from hw.errors import DriverUnavailable
from hw.pilot import PilotConfig


@dataclass
class ConnectorHardware:
    name: str
    driver: EvseDriver
    meter: Meter | None
    max_current_a: float
    ev: object | None = None  # the simulated car, for the demo and tests


def pilot_config(settings: Settings, connector: ConnectorSection) -> PilotConfig:
    p = settings.pilot
    return PilotConfig(
        min_current_a=p.min_current_a,
        min_pause_s=p.min_pause_s,
        pwm_min_update_interval_s=p.pwm_min_update_interval_s,
        force_open_after_s=p.force_open_after_s,
        wake_after_s=p.wake_after_s,
        wake_f_s=p.wake_f_s,
        wake_x1_s=p.wake_x1_s,
        wake_give_up_s=p.wake_give_up_s,
        max_interruptions_per_session=p.max_interruptions_per_session,
        max_current_a=connector.max_current_a,
    )


def build_connector(settings: Settings, c: ConnectorSection, clock: Clock) -> ConnectorHardware:
    if c.driver == "sim":
        from hw.sim import SimulatorSettings, build_sim_connector

        s = settings.simulator
        driver, meter, ev = build_sim_connector(
            SimulatorSettings(
                plugged_in=s.plugged_in,
                ev_max_current_a=s.ev_max_current_a,
                ev_response_s=s.ev_response_s,
                ev_sleep_after_pause_s=s.ev_sleep_after_pause_s,
                phases=c.phases,
                voltage_v=settings.station.voltage_v,
            ),
            clock,
            c.max_current_a,
            pilot_config(settings, c),
        )
        return ConnectorHardware("sim", driver, meter, c.max_current_a, ev)
    if c.driver in ("sysfs_pwm", "gpiozero_pwm"):
        return _direct_pilot(settings, c, clock)
    raise DriverUnavailable(
        f"connector {c.id}: driver {c.driver!r} is not built into this version of chargectl; "
        "use driver = 'sim' (see README, Configuration)"
    )


def _direct_pilot(settings: Settings, c: ConnectorSection, clock: Clock) -> ConnectorHardware:
    from hw.cp_adc import mcp300x_sensor
    from hw.direct_pilot import DirectPilotDriver
    from hw.gpio import GpioContactor, GpioHeartbeat, GpiozeroPwm
    from hw.pwm_sysfs import SysfsPwm

    p = c.pilot
    opened: list[Any] = []
    try:
        output: Any
        if c.driver == "sysfs_pwm":
            root = Path(os.environ.get("CHARGECTL_SYSFS_ROOT", "/sys"))
            output = SysfsPwm(p.pwm_chip, p.pwm_channel, invert=p.invert, root=root)
        else:
            assert p.pwm_gpio is not None
            output = GpiozeroPwm(p.pwm_gpio, invert=p.invert)
        opened.append(output)
        contactor = GpioContactor(
            p.contactor_gpio,
            active_high=p.contactor_active_high,
            feedback_pin=p.contactor_feedback_gpio,
        )
        opened.append(contactor)
        heartbeat = None
        if p.watchdog_gpio is not None:
            heartbeat = GpioHeartbeat(p.watchdog_gpio)
            opened.append(heartbeat)
        sensor = mcp300x_sensor(
            p.adc,
            positive_channel=p.adc_positive_channel,
            negative_channel=p.adc_negative_channel,
            spi_port=p.adc_spi_port,
            spi_device=p.adc_spi_device,
        )
    except BaseException:
        for dev in reversed(opened):
            with contextlib.suppress(Exception):
                dev.close()
        raise
    driver = DirectPilotDriver(
        output,
        sensor,
        contactor,
        clock,
        pilot_config(settings, c),
        phases=c.phases,
        heartbeat=heartbeat,
    )
    return ConnectorHardware(c.driver, driver, None, c.max_current_a)
