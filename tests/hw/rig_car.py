"""The two sides of the rig story that watch and act on the wires: a recorder of the pilot and
the contactor's feedback, and the rig behaving as a car."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from controller.selftest.rig import RigCar
from hw.base import CpState


class Recorder:
    """Samples the wires every 2 ms: the kernel duty and the contactor's feedback input."""

    def __init__(self, read_duty: Callable[[], float], feedback: Callable[[], bool | None]):
        self._read_duty = read_duty
        self._feedback = feedback
        self.duty: list[tuple[float, float]] = []
        self.closed: list[tuple[float, bool]] = []

    async def run(self) -> None:
        while True:
            now = time.monotonic()
            duty = round(self._read_duty(), 3)
            if not self.duty or self.duty[-1][1] != duty:
                self.duty.append((now, duty))
            closed = bool(self._feedback())
            if not self.closed or self.closed[-1][1] != closed:
                self.closed.append((now, closed))
            await asyncio.sleep(0.002)

    def first_duty(self, since: float, ok: Callable[[float], bool]) -> float | None:
        return next((t for t, d in self.duty if t >= since and ok(d)), None)

    def first_closed(self, since: float, want: bool) -> float | None:
        return next((t for t, c in self.closed if t >= since and c is want), None)


class FollowingCar:
    """The rig behaving as a car: requests energy (C) once PWM is offered, goes back to B within
    `response_s` of the pilot going to +12 V (X1)."""

    def __init__(self, car: RigCar, read_duty: Callable[[], float], response_s: float = 0.3):
        self.car = car
        self._read_duty = read_duty
        self.response_s = response_s
        self.requesting = False
        self.events: list[tuple[float, CpState]] = []

    async def run(self) -> None:
        changed_at = time.monotonic()
        offered_before = False
        self.car.make(CpState.B)
        while True:
            now = time.monotonic()
            offered = 8.0 <= self._read_duty() <= 97.0
            if offered != offered_before:
                offered_before, changed_at = offered, now
            if offered != self.requesting and now - changed_at >= self.response_s:
                self.requesting = offered
                state = CpState.C if offered else CpState.B
                self.car.make(state)
                self.events.append((time.monotonic(), state))
            await asyncio.sleep(0.005)

    def last(self, state: CpState) -> float:
        return max(t for t, s in self.events if s is state)


async def until(ok: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ok():
            return True
        await asyncio.sleep(0.01)
    return ok()
