"""A connector whose control pilot belongs to a Modbus EVSE board; the Pi only sets its current.

Presets and register maps: `hw.modbus_evse_maps` (evse_wb, evse_din, openwb_satellit,
heidelberg, generic).

Phases: a preset may declare the board's own 1p/3p relay (`RegisterMap.phase_relay`, see
`hw.modbus_phase`); none of the presets has one (`PHASE_CAPABLE_PRESETS`), a `generic` board
may. With one, the driver is `hw.base.PhaseSwitching` through the common switching sequence.

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
from dataclasses import replace

from hw.base import Capabilities, CpState, EvseStatus, Fault, FaultKind
from hw.clock import Clock, SystemClock
from hw.errors import DriverIOError, HardwareError
from hw.modbus_bus import ModbusBus
from hw.modbus_evse_maps import MAX_BLOCK_REGISTERS as MAX_BLOCK_REGISTERS
from hw.modbus_evse_maps import PHASE_CAPABLE_PRESETS as PHASE_CAPABLE_PRESETS
from hw.modbus_evse_maps import PRESETS as PRESETS
from hw.modbus_evse_maps import RegisterMap as RegisterMap
from hw.modbus_evse_maps import poll_requests as poll_requests
from hw.modbus_evse_maps import state_block
from hw.modbus_phase import ModbusPhaseRelay, board_pilot_status
from hw.phase_switch import PhaseSwitchConfig, PhaseSwitchSequencer, SwitchReport

log = logging.getLogger(__name__)


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
        phase_switch_config: PhaseSwitchConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`phase_switch_config`: switch phases with the board's relay (`regmap.phase_relay`,
        required then) through `hw.phase_switch`, on `clock`."""
        if poll_interval_s <= 0:
            raise ValueError(f"poll_interval_s must be > 0, got {poll_interval_s!r}")
        self.bus = bus
        self._poll_interval_s = poll_interval_s
        self.regmap = regmap
        self.device_id = device_id
        self.fault_after = fault_after
        self._min_a = min_current_a
        self._relay: ModbusPhaseRelay | None = None
        self._sequencer: PhaseSwitchSequencer | None = None
        if phase_switch_config is not None and phases == 3:
            if regmap.phase_relay is None:
                raise ValueError("this board has no phase relay to switch phases with")
            self._relay = ModbusPhaseRelay(bus, regmap.phase_relay, device_id)
            self._sequencer = PhaseSwitchSequencer(
                self._relay, clock or SystemClock(), phase_switch_config, phases=3
            )
        self._limit_a = 0.0
        self._capabilities = Capabilities(
            min_current_a=min_current_a,
            max_current_a=max_current_a,
            phases=phases,
            can_wake_up=False,
            has_contactor_feedback=False,
            can_switch_phases=self._sequencer is not None,
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

    @property
    def phases_in_use(self) -> int:
        """`hw.base.PhaseSwitching`: the phases the car is connected to now."""
        return self._capabilities.phases if self._sequencer is None else self._sequencer.phases

    def request_phases(self, phases: int) -> None:
        """`hw.base.PhaseSwitching`: switch when it is safe and allowed (`hw.phase_switch`)."""
        if self._sequencer is not None:
            self._sequencer.request(phases)

    def phase_switch_report(self) -> SwitchReport | None:
        return None if self._sequencer is None else self._sequencer.report()

    def _holding(self) -> bool:
        """The pause a phase switch needs: from the request until the relay is written."""
        relay, seq = self._relay, self._sequencer
        return seq is not None and relay is not None and (seq.holding_pause or relay.pending)

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
        if self._sequencer is not None:
            # Where the relay stands is not known: three phases, written once the car is
            # not charging (the pause holds until then).
            self._sequencer.apply_initial()

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
        self._limit_a = limit_a
        hold = self._holding()
        self._wanted_value = self.regmap.pause_value if hold else self._value_for(limit_a)
        if self._wanted_value != self._written:
            await self._write(self._wanted_value)

    async def _step_phases(self) -> None:
        """One step of the switching sequence on the board's state; the relay is written
        only while the pause is on the board and no car is in C or D."""
        seq, relay = self._sequencer, self._relay
        if seq is None or relay is None or self._fault is not None:
            return
        paused = self._written == self.regmap.pause_value
        open_ = paused and self._last_state not in (CpState.C, CpState.D)
        seq.step(board_pilot_status(self._last_state, self._status().offered_a, paused), open_)
        if open_:
            await relay.apply()
        await self.set_limit(self._limit_a)  # the pause held, or the offer back

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
        try:
            await self._step_phases()
        except HardwareError as exc:
            log.warning("EVSE board %d: phase relay: %s (pause held)", self.device_id, exc)
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
        if self._sequencer is not None:
            self._sequencer.abort()
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
