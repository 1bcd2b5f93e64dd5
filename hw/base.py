"""The contract between the charger logic and a connector's hardware.

Shaped after EVerest's split between charger logic and board support: the controller asks a
connector for "offer this many amps" and reads back what the hardware and the car really do.
Whether the pilot is a PWM pin on the Pi, a Modbus EVSE board or the simulator is the driver's
business. Every driver also has a `safe_state()` that leaves the pilot at +12 V without PWM (X1)
and the contactor open, and `close()` always ends in that state.

Every contract lives here, so a new driver or device reads one file: the connector-level
`EvseDriver` and `Meter`, `Polled` (how often a driver needs the loop), the pilot signal and the
devices a directly driven pilot is built from (`PilotOutput`, `CpSensor`, `Contactor`,
`Heartbeat`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hw.iec61851 import CpReading


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
    can_switch_phases: bool = False
    """A phase-switch relay lets the connector charge on one phase or on all of them."""


class FaultKind(StrEnum):
    """What kind of failure a connector reports; protocols map the kind, never the text.

    The text of a fault is for people and may be reworded freely; anything that decides
    (an OCPP errorCode, a dashboard colour) reads the kind.
    """

    CONTACTOR = "contactor"  # welded, stuck, or not following the command
    METER = "meter"  # the energy meter does not answer or answers nonsense
    PILOT = "pilot"  # the CP line: state D unsupported, E, F, a failed diode check
    BOARD = "board"  # an EVSE board reports its own failure
    LINK = "link"  # a board or device does not answer on its bus
    IO = "io"  # a local read or write of the hardware failed
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of a connector: its kind (for decisions) and a text (for people)."""

    kind: FaultKind
    text: str

    def __str__(self) -> str:
        return self.text


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
    fault: Fault | None = None

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


@runtime_checkable
class Polled(Protocol):
    """A driver that says when it next needs `poll()`.

    The answer depends on what the hardware does now: a directly driven pilot needs 50 ms polls
    while the contactor is closed (the 100 ms C -> B rule) and far fewer while idle; a Modbus
    board runs its own pilot and is read about once a second. The loop asks after every poll,
    so the interval follows the state without the loop knowing any driver.
    """

    def poll_interval_s(self) -> float: ...


class PilotMode(StrEnum):
    """What the pilot generator puts on the CP line."""

    X1 = "X1"  # +12 V DC: not offering energy
    PWM = "PWM"  # 1 kHz +-12 V square wave, duty = offered current
    F = "F"  # -12 V DC: EVSE not available


@dataclass(frozen=True, slots=True)
class PilotSignal:
    """One pilot output; `current_a` is the offered current while `mode` is PWM, else 0."""

    mode: PilotMode
    current_a: float = 0.0

    def __post_init__(self) -> None:
        # Imported here: hw.iec61851 itself builds on CpState from this module.
        from hw.iec61851 import duty_cycle_for_current

        if self.mode is PilotMode.PWM:
            duty_cycle_for_current(self.current_a)  # raises ValueError outside 6..80 A
        elif self.current_a != 0.0:
            raise ValueError(f"a {self.mode} pilot offers no current")

    @classmethod
    def x1(cls) -> PilotSignal:
        return cls(PilotMode.X1)

    @classmethod
    def f(cls) -> PilotSignal:
        return cls(PilotMode.F)

    @classmethod
    def pwm(cls, current_a: float) -> PilotSignal:
        return cls(PilotMode.PWM, current_a)

    @property
    def duty_percent(self) -> float:
        """High time of the generator in percent: X1 = 100, F = 0."""
        from hw.iec61851 import duty_cycle_for_current

        if self.mode is PilotMode.X1:
            return 100.0
        if self.mode is PilotMode.F:
            return 0.0
        return duty_cycle_for_current(self.current_a)


@runtime_checkable
class PilotOutput(Protocol):
    """Generates the CP signal: X1 (+12 V DC), PWM at the offered current, or F (-12 V DC)."""

    def apply(self, signal: PilotSignal) -> None: ...

    def close(self) -> None:
        """Leave the output at X1. Safe to call twice."""


@runtime_checkable
class CpSensor(Protocol):
    """Reads the CP line back: the state and, where the hardware can tell, the levels."""

    def read(self) -> CpReading: ...

    def close(self) -> None: ...


@runtime_checkable
class Contactor(Protocol):
    """The contactor's relay and, if wired, its auxiliary (feedback) contact."""

    @property
    def has_feedback(self) -> bool: ...

    def set_closed(self, closed: bool) -> None: ...

    def feedback(self) -> bool | None:
        """True when the auxiliary contact reports closed; None without a feedback input."""

    def close(self) -> None:
        """Open the contactor, then release it. Safe to call twice."""


@runtime_checkable
class Heartbeat(Protocol):
    """An output an external watchdog needs to see toggling to keep the contactor powered."""

    def toggle(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RawUid:
    """A card's UID bytes as a reader delivered them, byte 0 first; `source` names the reader
    for the log. What becomes of them (idTag text, debounce) is `hw.rfid.tag`'s pure business."""

    uid: bytes
    source: str


@runtime_checkable
class TokenReader(Protocol):
    """An RFID reader, polled: each `read()` says which card is on the antenna now.

    Polling instead of pushing events lets one debouncer (`hw.rfid.tag.Debouncer`) serve every
    reader: a card that stays on a PN532 is simply read again and again, a keyboard wedge
    reports a card only when it types one. `repeat_hold_s` is how long the same UID is
    suppressed after it was last seen (no removal information from a wedge: longer).
    """

    @property
    def repeat_hold_s(self) -> float: ...

    async def start(self) -> None:
        """Open and initialise the reader; raise DriverUnavailable with the fix."""

    async def read(self) -> RawUid | None:
        """Wait at most about one poll interval; the card seen now, or None."""

    async def close(self) -> None:
        """Release the device. Safe to call twice."""


@dataclass(frozen=True, slots=True)
class GridSample:
    """One reading of the meter at the house connection; currents per phase (L1, L2, L3) are
    signed: import positive, export negative (a meter that gives magnitudes only takes the sign
    from the phase's power)."""

    current_a: tuple[float, float, float]
    power_w: float


@runtime_checkable
class GridMeter(Protocol):
    """The meter at the house connection, read by the main-fuse guard."""

    async def start(self) -> None: ...

    async def read_grid(self) -> GridSample: ...

    async def close(self) -> None: ...


@runtime_checkable
class PhaseSwitch(Protocol):
    """The relay or contactor that connects L2 and L3 to the car, with optional feedback.

    Switched only while the main contactor is open: the switching sequence in
    `hw.phase_switch` makes sure of it.
    """

    @property
    def has_feedback(self) -> bool: ...

    def set_phases(self, phases: int) -> None:
        """1: L2 and L3 disconnected; 3: all phases connected."""

    def feedback(self) -> int | None:
        """The phases the auxiliary contact reports; None without a feedback input."""

    def close(self) -> None:
        """Release the output. Safe to call twice."""


@runtime_checkable
class PhaseSwitching(Protocol):
    """A connector driver that can charge on one phase or on three (`can_switch_phases`)."""

    @property
    def phases_in_use(self) -> int: ...

    def request_phases(self, phases: int) -> None:
        """Switch when it is safe (never under load) and the rate limit allows."""
