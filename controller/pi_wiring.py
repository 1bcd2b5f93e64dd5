"""A directly driven pilot's devices on the Pi: kernel PWM (or gpiozero's), the contactor
relay with its feedback, the phase relay, the watchdog output and the MCP300x read-back."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from controller.config import ConnectorSection, Settings
from controller.pilot_settings import phase_switch_config, pilot_config
from hw.clock import Clock
from hw.direct_pilot import DirectPilotDriver


def open_direct_pilot(settings: Settings, c: ConnectorSection, clock: Clock) -> DirectPilotDriver:
    """Open the Pi's devices for a directly driven pilot; whatever was opened is closed
    again if a later one fails, so a missing device never leaves an output claimed."""
    from hw.cp_adc import mcp300x_sensor
    from hw.gpio import GpioContactor, GpioHeartbeat, GpioPhaseSwitch, GpiozeroPwm
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
            feedback_pull_up=p.contactor_feedback_pull_up,
        )
        opened.append(contactor)
        phase_switch = None
        ps = c.phase_switch
        if ps is not None and ps.gpio is not None:
            phase_switch = GpioPhaseSwitch(
                ps.gpio,
                active_high=ps.active_high,
                feedback_pin=ps.feedback_gpio,
                feedback_pull_up=ps.feedback_pull_up,
            )
            opened.append(phase_switch)
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
            volts_per_unit=p.adc_volts_per_unit,
            offset_v=p.adc_offset_v,
            reset_pin=p.peak_reset_gpio,
        )
    except BaseException:
        for dev in reversed(opened):
            with contextlib.suppress(Exception):
                dev.close()
        raise
    return DirectPilotDriver(
        output,
        sensor,
        contactor,
        clock,
        pilot_config(settings, c),
        phases=c.phases,
        heartbeat=heartbeat,
        phase_switch=phase_switch,
        phase_switch_config=phase_switch_config(c),
    )
