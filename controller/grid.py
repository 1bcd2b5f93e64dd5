"""The main-fuse guard's parts as the configuration asks for them: its grid meter (Modbus,
or the simulated house) and the guard itself. `check-hw` probes the same meter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from controller.config import GridMeterSection, Settings
from controller.drivers import ConnectorHardware, shared_bus
from hw.base import GridMeter
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.charger.main_fuse import MainFuse
    from hw.grid_meter import ModbusGridMeter


def modbus_grid_meter(g: GridMeterSection, buses: dict[str, Any]) -> ModbusGridMeter:
    """The grid meter on its Modbus line (shared through `buses` with other devices on it)."""
    from controller.modbus_lines import METER_GAP_S
    from hw.grid_meter import ModbusGridMeter

    bus = shared_bus(buses, g.port, g.host, g.tcp_port, g.baudrate, g.parity, 0.5, METER_GAP_S)
    return ModbusGridMeter(bus, g.type, device_id=g.device_id)


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
    rotations = {c.id: parse_rotation(c.rotation) for c in settings.connector}
    meter: GridMeter
    if g.type == "sim":
        meter = sim_grid_meter(clock, hardware, rotations, st.voltage_v)
    else:
        meter = modbus_grid_meter(g, {} if buses is None else buses)
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
