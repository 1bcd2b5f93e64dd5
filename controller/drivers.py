"""Which hardware a connector uses: configuration in, driver and meter out.

`DRIVERS` is the only place that maps a `driver = "..."` name to code (like gpiozero's pin
factories), so adding a board means one entry here and its name in `config.DriverName`. Drivers
are imported lazily: a Pi without pymodbus wiring never imports the Modbus code, and a laptop
running the simulator never touches gpiozero. Modbus lines are shared through the `buses` dict
of one `build_station` call, not a module-level registry, so two stations (tests, check-hw)
never share a port by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import attrs

from controller.config import ConnectorSection, Settings
from controller.pilot_settings import phase_switch_config
from controller.pilot_settings import pilot_config as pilot_config  # tests import it from here
from hw.base import EvseDriver, Meter
from hw.clock import Clock
from hw.errors import DriverUnavailable
from hw.pilot import PilotConfig

# The simulated connector's polls (see sim_pilot_config).
SIM_POLL_INTERVAL_S = 0.2
SIM_IDLE_POLL_INTERVAL_S = 1.0

log = logging.getLogger(__name__)


@dataclass
class ConnectorHardware:
    name: str
    driver: EvseDriver
    meter: Meter | None
    max_current_a: float
    ev: object | None = None  # the simulated car, for the demo and tests


def shared_bus(
    buses: dict[str, Any],
    port: str | None,
    host: str | None,
    tcp_port: int,
    baudrate: int,
    parity: str,
    timeout_s: float,
    gap_s: float,
) -> Any:
    """The bus of that line from `buses`, made on first use: devices on one line share it."""
    from hw.modbus_bus import ModbusBus

    key = port or f"{host}:{tcp_port}"
    if key in buses:
        if port is not None:
            # On RS-485 the slowest device on the line sets the gap for every frame on it.
            buses[key].gap_s = max(buses[key].gap_s, gap_s)
    else:
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
    from controller.modbus_lines import METER_GAP_S
    from hw.meter_modbus import ModbusMeter

    bus = shared_bus(buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, 0.5, METER_GAP_S)
    return ModbusMeter(bus, m.type, device_id=m.device_id)


Builder = Callable[[Settings, ConnectorSection, Clock, dict[str, Any], bool], "ConnectorHardware"]


def build_station(settings: Settings, clock: Clock) -> dict[int, ConnectorHardware]:
    """Every connector's hardware, the connectors on one Modbus line sharing its bus."""
    from controller.modbus_lines import line_budgets

    for budget in line_budgets(settings):
        log.info("%s", budget.describe())
    buses: dict[str, Any] = {}
    return {c.id: build_for_service(settings, c, clock, buses) for c in settings.connector}


def build_for_service(
    settings: Settings, c: ConnectorSection, clock: Clock, buses: dict[str, Any] | None = None
) -> ConnectorHardware:
    """The connector as the service runs it: hardware missing at start-up is a Faulted
    connector that is retried, never a service that cannot start."""
    buses = {} if buses is None else buses
    if c.driver == "sim":
        return build_connector(settings, c, clock, buses)
    from controller.charger.retrying import RetryingDriver
    from hw.base import Capabilities
    from hw.errors import HardwareError

    def board() -> EvseDriver:
        return build_connector(settings, c, clock, buses, with_meter=False).driver

    driver = RetryingDriver(
        c.id,
        board,
        Capabilities(
            min_current_a=settings.pilot.min_current_a,
            max_current_a=c.max_current_a,
            phases=c.phases,
            # what the configuration promises (checked) while the hardware is still missing
            can_switch_phases=c.phase_switch is not None and c.phases == 3,
        ),
        clock,
    )
    try:
        meter = _meter(c, buses)
    except HardwareError as exc:
        log.error("connector %d: meter unavailable: %s", c.id, exc)
        meter = None
    name = f"modbus:{c.modbus.board}" if c.modbus is not None else c.driver
    return ConnectorHardware(name, driver, meter, c.max_current_a)


def build_connector(
    settings: Settings,
    c: ConnectorSection,
    clock: Clock,
    buses: dict[str, Any] | None = None,
    *,
    with_meter: bool = True,
) -> ConnectorHardware:
    """The hardware of one connector; `buses` shares Modbus lines between connectors."""
    builder = DRIVERS.get(c.driver)
    if builder is None:
        raise DriverUnavailable(
            f"connector {c.id}: driver {c.driver!r} is not built into this version of "
            f"chargectl; one of {', '.join(sorted(DRIVERS))} (see README, Configuration)"
        )
    return builder(settings, c, clock, {} if buses is None else buses, with_meter)


def _sim(
    settings: Settings,
    c: ConnectorSection,
    clock: Clock,
    buses: dict[str, Any],
    with_meter: bool = True,
) -> ConnectorHardware:
    from hw.sim import SimulatorSettings, build_sim_connector

    s = settings.simulator
    driver, meter, ev = build_sim_connector(
        SimulatorSettings(**attrs.asdict(s), phases=c.phases, voltage_v=settings.station.voltage_v),
        clock,
        c.max_current_a,
        sim_pilot_config(settings, c),
        settings.state.dir / f"sim-meter-{c.id}.json",
        phase_switch_config(c),
    )
    return ConnectorHardware("sim", driver, meter, c.max_current_a, ev)


def sim_pilot_config(settings: Settings, c: ConnectorSection) -> PilotConfig:
    """The pilot settings of a simulated connector: the [pilot] keys, polled at the simulator's
    pace unless the configuration sets the intervals.

    The 50 ms polls while charging exist so a real contactor opens within 100 ms of the car
    leaving C; the simulator's contactor carries no current, and its car has stopped drawing
    before it leaves C. Polled every 200 ms it opens within about 200 ms, and the service costs
    a quarter of the CPU while charging; idle, once a second (no external watchdog to toggle)
    shares the whole-second wake-up. The direct-pilot drivers keep the 50 ms / 500 ms rule.
    """
    config = pilot_config(settings, c)
    if settings.pilot.idle_poll_interval_s is None:
        config = replace(config, idle_poll_interval_s=SIM_IDLE_POLL_INTERVAL_S)
    if settings.pilot.poll_interval_s is None:
        busy_s = min(SIM_POLL_INTERVAL_S, config.idle_poll_interval_s)
        config = replace(config, poll_interval_s=busy_s)
    return config


def _direct(
    settings: Settings,
    c: ConnectorSection,
    clock: Clock,
    buses: dict[str, Any],
    with_meter: bool = True,
) -> ConnectorHardware:
    from controller.pi_wiring import open_direct_pilot

    hw = ConnectorHardware(c.driver, open_direct_pilot(settings, c, clock), None, c.max_current_a)
    hw.meter = _meter(c, buses) if with_meter else None
    return hw


def _modbus(
    settings: Settings,
    c: ConnectorSection,
    clock: Clock,
    buses: dict[str, Any],
    with_meter: bool = True,
) -> ConnectorHardware:
    from controller.modbus_lines import board_register_map
    from hw.modbus_evse import ModbusEvseDriver

    m = c.modbus
    assert m is not None
    regmap = board_register_map(m)
    bus = shared_bus(
        buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, m.timeout_s, regmap.gap_s
    )
    board = ModbusEvseDriver(
        bus,
        regmap,
        device_id=m.device_id,
        max_current_a=c.max_current_a,
        min_current_a=settings.pilot.min_current_a,
        phases=c.phases,
        poll_interval_s=m.poll_interval_s,
        phase_switch_config=phase_switch_config(c),
        clock=clock,
    )
    meter = _meter(c, buses) if with_meter else None
    return ConnectorHardware(f"modbus:{m.board}", board, meter, c.max_current_a)


DRIVERS: dict[str, Builder] = {
    "sim": _sim,
    "sysfs_pwm": _direct,
    "gpiozero_pwm": _direct,
    "modbus": _modbus,
}
