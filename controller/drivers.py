"""Which hardware a connector uses: configuration in, driver and meter out.

The only place that maps a `driver = "..."` name to code, so adding a board means one entry
here. Drivers are imported lazily: a Pi without pymodbus wiring never imports the Modbus code,
and a laptop running the simulator never touches gpiozero.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    raise DriverUnavailable(
        f"connector {c.id}: driver {c.driver!r} is not built into this version of chargectl; "
        "use driver = 'sim' (see README, Configuration)"
    )
