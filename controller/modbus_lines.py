"""Which boards and meters share which RS-485 line, and what their polls cost it.

Read from the configuration alone (no port is opened), so `check-config` and `run` refuse a
line that cannot carry its polls, and `run` logs each line's budget at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hw.meter_modbus import READ_PLAN
from hw.modbus_budget import (
    METER_POLL_INTERVAL_S,
    Device,
    Function,
    LineBudget,
    Request,
    line_budget,
)
from hw.modbus_evse import PRESETS, RegisterMap, poll_requests
from hw.modbus_phase import PhaseRelay

if TYPE_CHECKING:
    from controller.config import ModbusSection, Settings

METER_GAP_S = 0.05


def board_register_map(m: ModbusSection) -> RegisterMap:
    if m.board == "generic":
        assert m.current_register is not None and m.state_register is not None
        relay = None
        if m.phase_relay_register is not None:
            coil, one, three = m.relay_values
            relay = PhaseRelay(
                m.phase_relay_register,
                coil=coil,
                one_phase=one,
                three_phases=three,
                device_id=m.phase_relay_device_id,
            )
        return RegisterMap(
            m.current_register,
            m.state_register,
            dict(PRESETS["evse_wb"].state_map),
            current_scale=m.current_scale,
            phase_relay=relay,
        )
    return PRESETS["evse_wb" if m.board == "evse_din" else m.board]


def line_budgets(settings: Settings) -> list[LineBudget]:
    """One budget per serial line; Modbus TCP has no baud rate to run out of."""
    lines: dict[str, tuple[int, str, list[Device]]] = {}

    def add(port: str, baudrate: int, parity: str, device: Device) -> None:
        baud0, parity0, devices = lines.setdefault(port, (baudrate, parity, []))
        if (baud0, parity0) != (baudrate, parity):
            raise ValueError(
                f"Modbus line {port}: devices configured with {baud0} baud parity {parity0} "
                f"and {baudrate} baud parity {parity}; one line has one setting"
            )
        devices.append(device)

    for c in settings.connector:
        m = c.modbus
        if c.driver == "modbus" and m is not None and m.port is not None:
            rm = board_register_map(m)
            board = Device(
                f"connector {c.id} board", poll_requests(rm), m.poll_interval_s, rm.gap_s
            )
            add(m.port, m.baudrate, m.parity, board)
        mt = c.meter
        if mt is not None and mt.port is not None and mt.type in READ_PLAN:
            reads = tuple(Request(Function.READ, n) for n in READ_PLAN[mt.type])
            meter = Device(f"connector {c.id} meter", reads, METER_POLL_INTERVAL_S, METER_GAP_S)
            add(mt.port, mt.baudrate, mt.parity, meter)
    return [line_budget(port, b, p, devices) for port, (b, p, devices) in lines.items()]
