"""A simulated house behind the simulated grid meter, for the main-fuse guard without hardware.

The house draws a load profile per phase (a cooker on L2, heat-pump steps on all three); the
grid meter adds what the simulated cars draw on the phases their connectors are wired to. So the
guard, the pilot and the cars close the loop exactly as at a real house connection. Time comes
from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hw.base import GridSample
from hw.clock import Clock
from hw.errors import DriverUnavailable

Amps3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class LoadStep:
    at_s: float
    """Seconds after the house started."""
    current_a: Amps3


# A morning in a house with a 25 A fuse: base load, the heat pump starts, the cooker's 20 A on
# L2, the cooker off, the heat pump off.
DEMO_PROFILE: tuple[LoadStep, ...] = (
    LoadStep(0.0, (2.0, 1.5, 1.0)),
    LoadStep(20.0, (6.0, 5.5, 5.0)),
    LoadStep(40.0, (6.0, 21.5, 5.0)),
    LoadStep(80.0, (6.0, 5.5, 5.0)),
    LoadStep(110.0, (2.0, 1.5, 1.0)),
)


class SimHouse:
    """The house's own load over time; `set_load` overrides the profile (tests)."""

    def __init__(self, clock: Clock, profile: Sequence[LoadStep] = DEMO_PROFILE) -> None:
        self._clock = clock
        self._start_s = clock.monotonic()
        self._profile = sorted(profile, key=lambda s: s.at_s)
        self._override: Amps3 | None = None

    def set_load(self, current_a: Amps3 | None) -> None:
        self._override = current_a

    def load_a(self) -> Amps3:
        if self._override is not None:
            return self._override
        elapsed = self._clock.monotonic() - self._start_s
        load: Amps3 = (0.0, 0.0, 0.0)
        for step in self._profile:
            if step.at_s <= elapsed:
                load = step.current_a
        return load


# What one car adds to the grid phases: (grid phase index, amps) pairs.
CarDraw = Callable[[], Sequence[tuple[int, float]]]


class SimGridMeter:
    """`hw.base.GridMeter` at the simulated house connection; `silent` makes it stop answering."""

    def __init__(self, house: SimHouse, cars: Sequence[CarDraw] = (), voltage_v: float = 230.0):
        self.house = house
        self._cars = list(cars)
        self._voltage_v = voltage_v
        self.silent = False

    def add_car(self, draw: CarDraw) -> None:
        self._cars.append(draw)

    def currents_a(self) -> Amps3:
        total = list(self.house.load_a())
        for car in self._cars:
            for phase, amps in car():
                total[phase] += amps
        return (total[0], total[1], total[2])

    async def start(self) -> None:
        return None

    async def read_grid(self) -> GridSample:
        if self.silent:
            raise DriverUnavailable("simulated grid meter does not answer")
        amps = self.currents_a()
        return GridSample(current_a=amps, power_w=sum(a * self._voltage_v for a in amps))

    async def close(self) -> None:
        return None
