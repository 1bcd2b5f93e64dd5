"""The contract between the charger logic and a connector's hardware.

Shaped after EVerest's split between charger logic and board support: the controller asks a
connector for "offer this many amps" and reads back what the hardware and the car really do.
Whether the pilot is a PWM pin on the Pi, a Modbus EVSE board or the simulator is the driver's
business. Every driver also has a `safe_state()` that leaves the pilot at +12 V without PWM (X1)
and the contactor open, and `close()` always ends in that state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class CpState(StrEnum):
    """IEC 61851-1 control pilot states as seen by the EVSE."""

    A = "A"  # +12 V: no vehicle
    B = "B"  # +9 V: vehicle connected, not requesting energy
    C = "C"  # +6 V: vehicle requests energy
    D = "D"  # +3 V: requests energy, ventilation required
    E = "E"  # 0 V: CP shorted to PE, or no supply
    F = "F"  # -12 V: EVSE not available / fault


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector's hardware can do; published once at start."""

    min_current_a: float = 6.0
    max_current_a: float = 32.0
    phases: int = 3
    can_wake_up: bool = False
    has_contactor_feedback: bool = False
    reads_cable_rating: bool = False


@dataclass(frozen=True, slots=True)
class EvseStatus:
    """One reading of a connector's hardware.

    `offered_a` is what the pilot (or the board) offers the car right now: 0.0 while paused
    (+12 V, no PWM) or not charging. `suspended_by_ev` is true when current is offered and a
    wake-up was tried, but the car still does not request energy.
    """

    cp_state: CpState
    offered_a: float
    contactor_closed: bool
    suspended_by_ev: bool = False
    cable_max_a: float | None = None
    fault: str | None = None

    @property
    def plugged_in(self) -> bool:
        return self.cp_state in (CpState.B, CpState.C, CpState.D)


@runtime_checkable
class EvseDriver(Protocol):
    """One connector's charging hardware, in charge-point terms."""

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self) -> None:
        """Open the devices and put them in the safe state."""

    async def set_limit(self, limit_a: float) -> None:
        """Offer up to `limit_a` amps; anything under the minimum pauses at once."""

    async def poll(self) -> EvseStatus:
        """Advance the driver's timers, read the hardware, return what it does now."""

    async def safe_state(self) -> None:
        """Pilot to +12 V without PWM, contactor open. Must not raise."""

    async def close(self) -> None:
        """Release the devices, leaving them in the safe state. Safe to call twice."""


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One energy-meter reading; per-phase tuples are (L1, L2, L3)."""

    energy_wh: float
    power_w: float
    current_a: tuple[float, float, float]
    voltage_v: tuple[float, float, float]


@runtime_checkable
class Meter(Protocol):
    """An energy meter on a connector's supply."""

    async def start(self) -> None: ...

    async def read(self) -> MeterSample: ...

    async def close(self) -> None: ...
