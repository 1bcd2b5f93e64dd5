"""Key codes of a keyboard-wedge reader back to the characters it meant to type.

Decoded from evdev key codes, never from a tty: the reader sends US-layout scan codes, and a
German or French console would turn them into other characters. Pure: (type, code, value)
and the time come in, a finished line comes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EV_KEY = 1
KEY_DOWN = 1  # 0 = up, 2 = autorepeat: both ignored
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
ENTER_CODES = frozenset({28, 96, 15})  # KEY_ENTER, KEY_KPENTER, KEY_TAB (some models)

# linux/input-event-codes.h: the digit row, the keypad and the hex letters by QWERTY position
CHARACTERS: dict[int, str] = {
    **{2 + i: str((i + 1) % 10) for i in range(10)},  # KEY_1 = 2 ... KEY_9 = 10, KEY_0 = 11
    82: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
    30: "A",
    48: "B",
    46: "C",
    32: "D",
    18: "E",
    33: "F",
}

PARTIAL_TIMEOUT_S = 0.3  # a reader types a whole UID in a few ms; a pause means a lost key


@dataclass
class WedgeDecoder:
    """Collects key-downs into a line; Enter ends it. A partial line older than
    `PARTIAL_TIMEOUT_S` is dropped, so a lost key never glues two cards together."""

    _buffer: list[str] = field(default_factory=list)
    _last_key_s: float = 0.0

    def feed(self, ev_type: int, code: int, value: int, now_s: float) -> str | None:
        """One input event; the typed line when this event ends one, else None."""
        if ev_type != EV_KEY or value != KEY_DOWN:
            return None
        if self._buffer and now_s - self._last_key_s > PARTIAL_TIMEOUT_S:
            self._buffer.clear()
        self._last_key_s = now_s
        if code in ENTER_CODES:
            line = "".join(self._buffer)
            self._buffer.clear()
            return line or None
        char = CHARACTERS.get(code)
        if char is not None:
            self._buffer.append(char)
        return None  # shift and anything else: not part of a UID
