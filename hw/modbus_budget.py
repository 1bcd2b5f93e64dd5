"""How much of an RS-485 line the configured boards and meters use, computed before start.

Pure arithmetic on the configuration, so `check-config` refuses a line that cannot carry its
polls before any port is opened. Per request the line carries the request and the response
frame, each followed by the 3.5-character silence of Modbus RTU (1.75 ms above 19200 baud):

    char_s = (1 start + 8 data + 1 parity bit unless parity = N + 1 stop) / baudrate
    wire_s = (request_bytes + response_bytes) * char_s + 2 * t3.5
    read of n registers:   request 8 bytes,          response 5 + 2n bytes
    write of n registers:  request 9 + 2n bytes,     response 8 bytes

    bus time     = sum over requests per second of wire_s          (the line is busy)
    line in use  = sum over requests per second of (wire_s + gap_s) (nothing else can be sent)

`gap_s` is the pause the bus keeps between two frames (100 ms for EVSE-WB/DIN boards). A line
whose "in use" exceeds `MAX_IN_USE` is refused: the rest is kept for the register writes of
limit changes, which go out at once, and for one retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_IN_USE = 0.9
METER_POLL_INTERVAL_S = 1.0
"""How often the control loop reads each meter."""


class Function(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Request:
    function: Function
    registers: int


@dataclass(frozen=True, slots=True)
class Device:
    """A board or meter and the requests it makes every `interval_s`."""

    name: str
    requests: tuple[Request, ...]
    interval_s: float
    gap_s: float


@dataclass(frozen=True, slots=True)
class LineBudget:
    line: str
    baudrate: int
    parity: str
    gap_s: float
    requests_per_s: float
    bus_time: float
    """Fraction of each second the line carries frames."""
    in_use: float
    """Fraction of each second taken by frames and the gaps after them."""

    @property
    def saturated(self) -> bool:
        return self.in_use > MAX_IN_USE

    def describe(self) -> str:
        return (
            f"Modbus line {self.line} ({self.baudrate} baud, parity {self.parity}, "
            f"{self.gap_s * 1000:.0f} ms between frames): {self.requests_per_s:.1f} requests/s, "
            f"bus time {self.bus_time:.0%}, in use with gaps {self.in_use:.0%} "
            f"(at most {MAX_IN_USE:.0%})"
        )


def char_time_s(baudrate: int, parity: str) -> float:
    return (11 if parity != "N" else 10) / baudrate


def silence_s(baudrate: int, parity: str) -> float:
    return 0.00175 if baudrate > 19200 else 3.5 * char_time_s(baudrate, parity)


def frame_bytes(request: Request) -> tuple[int, int]:
    """(request bytes, response bytes) of one RTU exchange."""
    if request.function is Function.READ:
        return 8, 5 + 2 * request.registers
    return 9 + 2 * request.registers, 8


def wire_time_s(request: Request, baudrate: int, parity: str) -> float:
    out, back = frame_bytes(request)
    return (out + back) * char_time_s(baudrate, parity) + 2 * silence_s(baudrate, parity)


def line_budget(line: str, baudrate: int, parity: str, devices: list[Device]) -> LineBudget:
    gap_s = max((d.gap_s for d in devices), default=0.0)
    rate = busy = used = 0.0
    for d in devices:
        per_s = 1.0 / d.interval_s
        for r in d.requests:
            wire = wire_time_s(r, baudrate, parity)
            rate += per_s
            busy += per_s * wire
            used += per_s * (wire + gap_s)
    return LineBudget(line, baudrate, parity, gap_s, rate, busy, used)


def refuse_saturated(budgets: list[LineBudget]) -> None:
    """Raise ValueError naming every line that cannot carry its polls, with the numbers."""
    bad = [b for b in budgets if b.saturated]
    if bad:
        raise ValueError(
            "; ".join(b.describe() for b in bad)
            + ". Poll the boards less often ([connector.modbus] poll_interval_s), raise the "
            "baud rate, or move devices to a second line"
        )
