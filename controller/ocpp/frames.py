"""Screening of raw OCPP-J frames before the `ocpp` library sees them.

The library trusts its input in ways a hostile CSMS can exploit: Python's `json` accepts
`NaN`, `Infinity` and `1e400` (which becomes an infinite float), and the schema check then
fails on them, or on merely huge numbers, with an exception nobody catches, so the receive
loop ends and the link drops; deep nesting hits the interpreter's recursion limit; and huge
integers raise a plain `ValueError`. Here every frame is parsed once, strictly, and
classified; a bad CALL gets a CALLERROR naming the problem, a bad response is dropped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

# OCPP 1.6 payloads nest four levels at most (SetChargingProfile's schedule periods); 32 leaves
# room for vendor data and keeps every recursive walk far below Python's recursion limit.
MAX_DEPTH = 32
# Bounds on JSON numbers, far above any OCPP field. The library checks `multipleOf: 0.1` with
# Decimals of 28 digits: 1.7e308 (finite) or a 30-digit integer there raises
# decimal.InvalidOperation, which ends the receive loop like NaN does. Python's own int limit
# (4300 digits) raises a plain ValueError. 20 digits pass that check safely (tested up to 27)
# and cover every 64-bit id, so an id the store cannot hold (2^63) reaches the handlers, which
# answer it in OCPP terms (Rejected, Unknown, PropertyConstraintViolation).
MAX_INT_DIGITS = 20
MAX_ABS_FLOAT = 1e15


class FrameKind(Enum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    INVALID = 0


class _NotFinite(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Screened:
    """What a frame is; `error_code` set means it must not reach the library."""

    kind: FrameKind
    message_id: str
    parsed: list[Any] | None
    error_code: str | None = None
    error_text: str = ""


def _constant(name: str) -> float:
    raise _NotFinite(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_ABS_FLOAT:
        raise _NotFinite(f"{text[:20]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _NotFinite(f"an integer of {len(text)} digits is out of range")
    return int(text)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iterative, so that the check itself cannot overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
    return False


def _message_id_guess(raw: str) -> str:
    """The id of a frame we could not parse, when its start still shows one: `[2, "id", ...`."""
    head = raw[:200].lstrip()
    if head.startswith("["):
        parts = head[1:].split(",", 2)
        if len(parts) >= 2 and parts[0].strip() in ("2", "3", "4"):
            candidate = parts[1].strip()
            if len(candidate) >= 2 and candidate[0] == candidate[-1] == '"':
                inner = candidate[1:-1]
                if inner and '"' not in inner and "\\" not in inner and len(inner) <= 36:
                    return inner
    return "-1"


def _refusal(raw: str, code: str, text: str) -> Screened:
    guess = _message_id_guess(raw)
    kind = FrameKind.INVALID
    if raw.lstrip()[1:].lstrip().startswith(("3", "4")):
        kind = FrameKind.CALLRESULT  # a broken response: dropped, never answered
    return Screened(kind, guess, None, code, text)


def screen(raw: str | bytes) -> Screened:
    """Parse strictly and classify one frame; never raises."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Screened(FrameKind.INVALID, "-1", None, "FormatViolation", "frame is not UTF-8")
    try:
        parsed = json.loads(raw, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _NotFinite as exc:
        return _refusal(raw, "FormatViolation", f"number not allowed: {exc}")
    except RecursionError:
        return _refusal(raw, "FormatViolation", f"nested deeper than {MAX_DEPTH} levels")
    except (ValueError, TypeError):
        return Screened(FrameKind.INVALID, "-1", None, "FormatViolation", "frame is not JSON")
    if (
        not isinstance(parsed, list)
        or len(parsed) < 3
        or parsed[0] not in (2, 3, 4)
        or isinstance(parsed[0], bool)
        or not isinstance(parsed[1], str)
        or (parsed[0] == 2 and (len(parsed) != 4 or not isinstance(parsed[2], str)))
    ):
        msg_id = parsed[1] if isinstance(parsed, list) and len(parsed) > 1 else "-1"
        if not isinstance(msg_id, str):
            msg_id = "-1"
        return Screened(FrameKind.INVALID, msg_id, None, "ProtocolError", "not an OCPP-J message")
    kind = FrameKind(parsed[0])
    if _depth_exceeds(parsed, MAX_DEPTH + 1):
        text = f"nested deeper than {MAX_DEPTH} levels"
        return Screened(kind, parsed[1], None, "FormatViolation", text)
    if kind is FrameKind.CALL and not isinstance(parsed[3], dict):
        return Screened(kind, parsed[1], None, "FormatViolation", "payload must be an object")
    return Screened(kind, parsed[1], parsed)


def call_error(message_id: str, code: str, text: str) -> str:
    return json.dumps([4, message_id, code, text[:200], {}])
