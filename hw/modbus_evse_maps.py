"""The register maps of the Modbus EVSE boards we know, and what one poll of each costs.

Separate from the driver (`hw.modbus_evse`) because more than the driver reads them: the
configuration checks a board name against `PRESETS` and `PHASE_CAPABLE_PRESETS`, the bus budget
(`controller.modbus_lines`, `hw.modbus_budget`) prices a poll from `poll_requests()`, and adding a
board is adding a map here, not touching the polling code.

Presets (register maps from the boards' manuals and what evcc and openWB do):
* `evse_wb` / `evse_din` (evracing EVSE-WB, EVSE-DIN, SimpleEVSE): RTU 9600 8N1, holding
  register 1000 = current, 0 = pause (no PWM), written with function 16; 1002 = vehicle state
  (1 A, 2 B, 3 C, 4 D, 5 failure). At start 1005 (firmware) and, from firmware 17, bit 7 of
  2005 tell whether 1000 counts in 1 A or 0.01 A: never assumed. 100 ms between frames. The
  board has no watchdog: set its register 2000 (current after power-up) to 0 once, by hand.
* `openwb_satellit`: the same board behind Modbus TCP.
* `heidelberg` (Heidelberg Energy Control, Amperfied): RTU 19200 8E1; holding 261 = current in
  0.1 A (0 = pause), input 5 = state; the board's own watchdog (holding 257, ms) drops to the
  failsafe current (holding 262, set to 0 here) when polls stop, and standby (258) is disabled.
* `generic`: any board, from a `RegisterMap`.

`RegisterMap.phase_relay` is the board's own 1p/3p relay (`hw.modbus_phase`);
`PHASE_CAPABLE_PRESETS` names the presets that have one (none of the above; a `generic` board
may declare one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hw.base import CpState
from hw.modbus_budget import Function, Request
from hw.modbus_phase import PhaseRelay

# Widest span read in one request to get state and current together (older EVSE-WB firmware
# answers exception 2 to 8 registers from 1000; 3 is what openWB reads).
MAX_BLOCK_REGISTERS = 4


@dataclass(frozen=True, slots=True)
class RegisterMap:
    current_register: int
    state_register: int
    state_map: dict[int, CpState | None]  # None = the board reports a fault
    current_scale: float = 1.0  # register units per ampere
    pause_value: int = 0
    state_is_input: bool = False
    gap_s: float = 0.1
    detect_centiamps: bool = False
    watchdog_register: int | None = None
    watchdog_ms: int | None = None
    failsafe_register: int | None = None
    standby_register: int | None = None
    standby_disable_value: int = 4
    extra_status: dict[str, int] = field(default_factory=dict)
    phase_relay: PhaseRelay | None = None
    """The board's own 1p/3p relay (`hw.modbus_phase`); None: it cannot switch phases."""


_EVSE_WB_STATES: dict[int, CpState | None] = {
    1: CpState.A,
    2: CpState.B,
    3: CpState.C,
    4: CpState.D,
    5: None,
}
_HEIDELBERG_STATES: dict[int, CpState | None] = {
    2: CpState.A,
    3: CpState.A,
    4: CpState.B,
    5: CpState.B,
    6: CpState.C,
    7: CpState.C,
    8: CpState.C,
    9: CpState.E,
    10: CpState.F,
    11: None,
}

PRESETS: dict[str, RegisterMap] = {
    "evse_wb": RegisterMap(1000, 1002, _EVSE_WB_STATES, detect_centiamps=True),
    "evse_din": RegisterMap(1000, 1002, _EVSE_WB_STATES, detect_centiamps=True),
    "openwb_satellit": RegisterMap(1000, 1002, _EVSE_WB_STATES, detect_centiamps=True, gap_s=0.0),
    "heidelberg": RegisterMap(
        261,
        5,
        _HEIDELBERG_STATES,
        current_scale=10.0,
        state_is_input=True,
        watchdog_register=257,
        watchdog_ms=15000,
        failsafe_register=262,
        standby_register=258,
    ),
}


# The presets whose board has a phase relay of its own; a `generic` board may declare one.
PHASE_CAPABLE_PRESETS = tuple(name for name, rm in PRESETS.items() if rm.phase_relay is not None)


def state_block(rm: RegisterMap) -> tuple[int, int] | None:
    """(first register, count) when one read returns both the state and the current."""
    if rm.state_is_input:
        return None
    first = min(rm.state_register, rm.current_register)
    count = abs(rm.state_register - rm.current_register) + 1
    return (first, count) if count <= MAX_BLOCK_REGISTERS else None


def poll_requests(rm: RegisterMap) -> tuple[Request, ...]:
    """The requests of one poll when all is well."""
    block = state_block(rm)
    if block is not None:
        return (Request(Function.READ, block[1]),)
    return (Request(Function.READ, 1), Request(Function.READ, 1))
