"""A connector whose control pilot belongs to a Modbus EVSE board; the Pi only sets its current.

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

Wiring: RS-485 A to A, B to B, 120 Ohm termination at both ends of the bus; several boards (and
meters) can share one bus with distinct device ids (see docs/modbus.md).

Polling: the board runs the pilot and the contactor itself, so it is read about once a second
(`poll_interval_s`, as evcc and openWB do), while a new limit is written at once. A poll reads
the state and the current register in one request where the map allows it (1000..1002 on the
EVSE-WB: one frame, not two); `poll_requests()` says what a poll costs, for the bus budget
(`hw.modbus_budget`).

Failure: a board that does not answer makes `poll()` report a fault after `fault_after`
consecutive failures (the connector goes Faulted), and the driver recovers by itself when the
board answers again. `safe_state()` writes the pause value best-effort and never raises.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

from hw.base import Capabilities, CpState, EvseStatus, Fault, FaultKind
from hw.errors import DriverIOError, HardwareError
from hw.modbus_budget import Function, Request
from hw.modbus_bus import ModbusBus

# Widest span read in one request to get state and current together (older EVSE-WB firmware
# answers exception 2 to 8 registers from 1000; 3 is what openWB reads).
MAX_BLOCK_REGISTERS = 4

log = logging.getLogger(__name__)


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


class ModbusEvseDriver:
    def __init__(
        self,
        bus: ModbusBus,
        regmap: RegisterMap,
        *,
        device_id: int = 1,
        max_current_a: float = 32.0,
        min_current_a: float = 6.0,
        phases: int = 3,
        fault_after: int = 3,
        poll_interval_s: float = 1.0,
    ) -> None:
        if poll_interval_s <= 0:
            raise ValueError(f"poll_interval_s must be > 0, got {poll_interval_s!r}")
        self.bus = bus
        self._poll_interval_s = poll_interval_s
        self.regmap = regmap
        self.device_id = device_id
        self.fault_after = fault_after
        self._min_a = min_current_a
        self._capabilities = Capabilities(
            min_current_a=min_current_a,
            max_current_a=max_current_a,
            phases=phases,
            can_wake_up=False,
            has_contactor_feedback=False,
        )
        self._wanted_value = regmap.pause_value
        self._limit_changes = 0  # a poll's read that overlapped one proves nothing
        self._written: int | None = None
        self._failures = 0
        self._last_state = CpState.E
        self._fault: Fault | None = None
        self.firmware: int | None = None
        self._started = False
        self._closed = False
        bus.acquire()

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def poll_interval_s(self) -> float:
        """`hw.base.Polled`: the board keeps its own pilot timing, so the same in every state."""
        return self._poll_interval_s

    async def start(self) -> None:
        """Learn the board's current scale, arm its own fail-safe, and pause."""
        rm = self.regmap
        if rm.detect_centiamps:
            (fw,) = await self.bus.read_holding(1005, 1, self.device_id)
            self.firmware = fw
            scale = 1.0
            if fw >= 17:
                (bits,) = await self.bus.read_holding(2005, 1, self.device_id)
                if bits & 0x80:
                    scale = 100.0
            self.regmap = replace(rm, current_scale=scale)
            log.info(
                "EVSE board %d: firmware %d, current in %s A steps",
                self.device_id,
                fw,
                "0.01" if scale == 100 else "1",
            )
        if rm.standby_register is not None:
            await self.bus.write_registers(
                rm.standby_register, [rm.standby_disable_value], self.device_id
            )
        if rm.failsafe_register is not None:
            await self.bus.write_registers(rm.failsafe_register, [0], self.device_id)
        if rm.watchdog_register is not None and rm.watchdog_ms is not None:
            await self.bus.write_registers(rm.watchdog_register, [rm.watchdog_ms], self.device_id)
        self._started = True
        await self._write(rm.pause_value)

    def _value_for(self, limit_a: float) -> int:
        if limit_a < self._min_a or math.isnan(limit_a):
            return self.regmap.pause_value
        limit_a = min(limit_a, self._capabilities.max_current_a)
        return math.floor(limit_a * self.regmap.current_scale + 1e-9)

    async def _write(self, value: int) -> None:
        await self.bus.write_registers(self.regmap.current_register, [value], self.device_id)
        self._written = value

    async def set_limit(self, limit_a: float) -> None:
        self._limit_changes += 1
        self._wanted_value = self._value_for(limit_a)
        if self._wanted_value != self._written:
            await self._write(self._wanted_value)

    async def poll(self) -> EvseStatus:
        rm = self.regmap
        try:
            if not self._started:
                await self.start()
            block = state_block(rm)
            changes = self._limit_changes
            if block is not None:
                regs = await self.bus.read_holding(block[0], block[1], self.device_id)
                raw = regs[rm.state_register - block[0]]
                current = regs[rm.current_register - block[0]]
            else:
                read = self.bus.read_input if rm.state_is_input else self.bus.read_holding
                (raw,) = await read(rm.state_register, 1, self.device_id)
                (current,) = await self.bus.read_holding(rm.current_register, 1, self.device_id)
            if current != self._wanted_value and changes == self._limit_changes:
                # The board rebooted (and loaded its power-up current) or someone else wrote;
                # not a read that was on the line while a new limit waited for it.
                log.warning(
                    "EVSE board %d holds %d, not %d: writing again",
                    self.device_id,
                    current,
                    self._wanted_value,
                )
                await self._write(self._wanted_value)
        except HardwareError as exc:
            self._failures += 1
            if self._failures >= self.fault_after:
                self._fault = Fault(
                    FaultKind.LINK, f"EVSE board {self.device_id} not answering: {exc}"
                )
            return self._status()
        if self._failures >= self.fault_after:
            log.info("EVSE board %d answers again", self.device_id)
        self._failures = 0
        state = rm.state_map.get(raw, None)
        if state is None:
            self._fault = Fault(
                FaultKind.BOARD, f"EVSE board {self.device_id} reports failure (state {raw})"
            )
        else:
            self._fault = None
            self._last_state = state
        return self._status()

    def _status(self) -> EvseStatus:
        offered = 0.0
        if self._written and self._written != self.regmap.pause_value and self._fault is None:
            offered = math.floor(self._written / self.regmap.current_scale * 10) / 10
        return EvseStatus(
            cp_state=self._last_state,
            offered_a=offered,
            contactor_closed=self._last_state in (CpState.C, CpState.D) and offered > 0,
            fault=self._fault,
        )

    async def safe_state(self) -> None:
        self._wanted_value = self.regmap.pause_value
        try:
            await self._write(self.regmap.pause_value)
        except DriverIOError as exc:
            log.error("EVSE board %d: could not pause: %s", self.device_id, exc)
        except Exception:
            log.exception("EVSE board %d: could not pause", self.device_id)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.safe_state()
        self.bus.release()
