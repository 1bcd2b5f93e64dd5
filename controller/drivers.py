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


# One ModbusBus per serial port or TCP endpoint, shared by the boards and meters on it.
_BUSES: dict[str, Any] = {}


def _bus(
    buses: dict[str, Any],
    port: str | None,
    host: str | None,
    tcp_port: int,
    baudrate: int,
    parity: str,
    timeout_s: float,
    gap_s: float,
) -> Any:
    from hw.modbus_bus import ModbusBus

    key = port or f"{host}:{tcp_port}"
    if key not in buses:
        buses[key] = ModbusBus(
            port=port,
            host=host,
            tcp_port=tcp_port,
            baudrate=baudrate,
            parity=parity,
            timeout_s=timeout_s,
            gap_s=gap_s,
        )
    return buses[key]


def _meter(c: ConnectorSection, buses: dict[str, Any]) -> Meter | None:
    m = c.meter
    if m is None or m.type == "none":
        return None
    if m.type == "sim":
        raise DriverUnavailable(
            f"connector {c.id}: meter type 'sim' only exists with driver = 'sim'"
        )
    from hw.meter_modbus import ModbusMeter

    bus = _bus(buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, 0.5, 0.05)
    return ModbusMeter(bus, m.type, device_id=m.device_id)


def build_connector(
    settings: Settings, c: ConnectorSection, clock: Clock, buses: dict[str, Any] | None = None
) -> ConnectorHardware:
    """The hardware of one connector; `buses` shares Modbus lines between connectors."""
    buses = _BUSES if buses is None else buses
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
            settings.state.dir / f"sim-meter-{c.id}.json",
        )
        return ConnectorHardware("sim", driver, meter, c.max_current_a, ev)
    if c.driver in ("sysfs_pwm", "gpiozero_pwm"):
        hw = _direct_pilot(settings, c, clock)
        hw.meter = _meter(c, buses)
        return hw
    if c.driver == "modbus":
        from hw.modbus_evse import PRESETS, ModbusEvseDriver, RegisterMap

        m = c.modbus
        assert m is not None
        if m.board == "generic":
            assert m.current_register is not None and m.state_register is not None
            regmap = RegisterMap(
                m.current_register,
                m.state_register,
                dict(PRESETS["evse_wb"].state_map),
                current_scale=m.current_scale,
            )
        else:
            regmap = PRESETS["evse_wb" if m.board == "evse_din" else m.board]
        bus = _bus(
            buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, m.timeout_s, regmap.gap_s
        )
        board = ModbusEvseDriver(
            bus,
            regmap,
            device_id=m.device_id,
            max_current_a=c.max_current_a,
            min_current_a=settings.pilot.min_current_a,
            phases=c.phases,
        )
        return ConnectorHardware(f"modbus:{m.board}", board, _meter(c, buses), c.max_current_a)
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
            feedback_pull_up=p.contactor_feedback_pull_up,
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
            volts_per_unit=p.adc_volts_per_unit,
            offset_v=p.adc_offset_v,
            reset_pin=p.peak_reset_gpio,
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
