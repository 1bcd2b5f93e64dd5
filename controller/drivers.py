"""Which hardware a connector uses: configuration in, driver and meter out.

`DRIVERS` is the only place that maps a `driver = "..."` name to code (like gpiozero's pin
factories), so adding a board means one entry here and its name in `config.DriverName`. Drivers
are imported lazily: a Pi without pymodbus wiring never imports the Modbus code, and a laptop
running the simulator never touches gpiozero. Modbus lines are shared through the `buses` dict
of one `build_station` call, not a module-level registry, so two stations (tests, check-hw)
never share a port by accident.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.config import ConnectorSection, RfidSection, Settings
from hw.base import EvseDriver, GridMeter, Meter, TokenReader
from hw.clock import Clock
from hw.errors import DriverUnavailable
from hw.iec61851 import CpBands
from hw.phase_switch import PhaseSwitchConfig
from hw.pilot import PilotConfig

if TYPE_CHECKING:
    from controller.charger.main_fuse import MainFuse

log = logging.getLogger(__name__)

FUSE_DECREASE_INTERVAL_S = 1.0


@dataclass
class ConnectorHardware:
    name: str
    driver: EvseDriver
    meter: Meter | None
    max_current_a: float
    ev: object | None = None  # the simulated car, for the demo and tests


def phase_switch_config(connector: ConnectorSection) -> PhaseSwitchConfig | None:
    ps = connector.phase_switch
    if ps is None:
        return None
    return PhaseSwitchConfig(
        wait_s=ps.wait_s, min_interval_s=ps.min_interval_s, confirm_s=ps.confirm_s
    )


def pilot_config(settings: Settings, connector: ConnectorSection) -> PilotConfig:
    """Every `[pilot]` key by name: the pydantic section mirrors `PilotConfig` field for field."""
    p = settings.pilot
    values = p.model_dump(exclude={"bands"})
    guarded = settings.station.grid_meter.type != "none"
    if guarded and "decrease_min_interval_s" not in p.model_fields_set:
        # A decrease for the main fuse may not wait out the 5 s spacing (docs/energy.md).
        values["decrease_min_interval_s"] = FUSE_DECREASE_INTERVAL_S
    return PilotConfig(
        **values, bands=CpBands(**p.bands.model_dump()), max_current_a=connector.max_current_a
    )


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

    bus = _bus(buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, 0.5, METER_GAP_S)
    return ModbusMeter(bus, m.type, device_id=m.device_id)


def build_main_fuse(
    settings: Settings,
    hardware: dict[int, ConnectorHardware],
    clock: Clock,
    buses: dict[str, Any] | None = None,
) -> MainFuse | None:
    """The main-fuse guard with its grid meter, or None without `[station.grid_meter]`."""
    from controller.charger.fuse_guard import FuseGuardConfig, parse_rotation
    from controller.charger.main_fuse import MainFuse

    st = settings.station
    g = st.grid_meter
    if g.type == "none" or st.main_fuse_a is None:
        return None
    rotations = {c.id: parse_rotation(c.phase_rotation) for c in settings.connector}
    meter: GridMeter
    if g.type == "sim":
        meter = sim_grid_meter(clock, hardware, rotations, st.voltage_v)
    else:
        from controller.modbus_lines import METER_GAP_S
        from hw.grid_meter import ModbusGridMeter

        bus = _bus(
            {} if buses is None else buses,
            g.port,
            g.host,
            g.tcp_port,
            g.baudrate,
            g.parity,
            0.5,
            METER_GAP_S,
        )
        meter = ModbusGridMeter(bus, g.type, device_id=g.device_id)
    config = FuseGuardConfig(
        main_fuse_a=st.main_fuse_a,
        margin_a=g.margin_a,
        silent_after_s=g.silent_after_s,
        fallback_current_a=g.fallback_current_a,
        increase_after_s=g.increase_after_s,
        min_current_a=settings.pilot.min_current_a,
    )
    return MainFuse(meter, config, rotations, clock, g.interval_s)


def sim_grid_meter(
    clock: Clock,
    hardware: dict[int, ConnectorHardware],
    rotations: dict[int, tuple[int, ...]],
    voltage_v: float,
) -> GridMeter:
    """The simulated house, with every simulated car on the phases its connector is wired to."""
    from controller.charger.fuse_guard import grid_phases
    from hw.sim import SimulatedEv
    from hw.sim_house import CarDraw, SimGridMeter, SimHouse

    def draw_of(ev: SimulatedEv, rotation: tuple[int, ...]) -> CarDraw:
        def draw() -> list[tuple[int, float]]:
            ev.step()
            phases = grid_phases(rotation, ev.phases_drawn)
            return [(p, ev.drawn_current_a) for p in phases]

        return draw

    cars = [
        draw_of(hw.ev, rotations.get(cid, (0, 1, 2)))
        for cid, hw in sorted(hardware.items())
        if isinstance(hw.ev, SimulatedEv)
    ]
    return SimGridMeter(SimHouse(clock), cars, voltage_v)


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
        SimulatorSettings(**s.model_dump(), phases=c.phases, voltage_v=settings.station.voltage_v),
        clock,
        c.max_current_a,
        pilot_config(settings, c),
        settings.state.dir / f"sim-meter-{c.id}.json",
        phase_switch_config(c),
    )
    return ConnectorHardware("sim", driver, meter, c.max_current_a, ev)


def _direct(
    settings: Settings,
    c: ConnectorSection,
    clock: Clock,
    buses: dict[str, Any],
    with_meter: bool = True,
) -> ConnectorHardware:
    hw = _direct_pilot(settings, c, clock)
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
    bus = _bus(buses, m.port, m.host, m.tcp_port, m.baudrate, m.parity, m.timeout_s, regmap.gap_s)
    board = ModbusEvseDriver(
        bus,
        regmap,
        device_id=m.device_id,
        max_current_a=c.max_current_a,
        min_current_a=settings.pilot.min_current_a,
        phases=c.phases,
        poll_interval_s=m.poll_interval_s,
    )
    meter = _meter(c, buses) if with_meter else None
    return ConnectorHardware(f"modbus:{m.board}", board, meter, c.max_current_a)


def _direct_pilot(settings: Settings, c: ConnectorSection, clock: Clock) -> ConnectorHardware:
    from hw.cp_adc import mcp300x_sensor
    from hw.direct_pilot import DirectPilotDriver
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
    driver = DirectPilotDriver(
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
    return ConnectorHardware(c.driver, driver, None, c.max_current_a)


DRIVERS: dict[str, Builder] = {
    "sim": _sim,
    "sysfs_pwm": _direct,
    "gpiozero_pwm": _direct,
    "modbus": _modbus,
}


# --- RFID readers ----------------------------------------------------------------------------

ReaderBuilder = Callable[[RfidSection], TokenReader]


def _hid_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.hid import HidWedgeReader

    return HidWedgeReader(r.path, r.wedge_format, poll_s=max(r.poll_interval_s, 0.5))


def _pn532_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.pn532 import Pn532Reader

    return Pn532Reader(r.port, r.baudrate, poll_s=r.poll_interval_s)


def _rc522_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.rc522 import Rc522Reader

    return Rc522Reader(r.spi_port, r.spi_device, r.reset_gpio, poll_s=r.poll_interval_s)


def _sim_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.sim import SimReader

    return SimReader(r.poll_interval_s)


READERS: dict[str, ReaderBuilder] = {
    "hid": _hid_reader,
    "pn532": _pn532_reader,
    "rc522": _rc522_reader,
    "sim": _sim_reader,
}


def build_readers(settings: Settings) -> dict[int | None, TokenReader]:
    """Every configured reader by the connector it serves; None is the station's reader.
    Nothing is opened here: the service starts each reader and retries it if it is missing."""
    wanted: dict[int | None, RfidSection] = {
        c.id: c.rfid for c in settings.connector if c.rfid is not None
    }
    if settings.rfid is not None:
        wanted[None] = settings.rfid
    return {where: READERS[r.type](r) for where, r in wanted.items()}
