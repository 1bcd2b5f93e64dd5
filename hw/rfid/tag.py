"""From what a reader gives to an OCPP idTag, and one event per presentation of a card.

Pure: no device, no clock of its own (time is passed in). OCPP 1.6 §3.9 wants the UID bytes as
hex, byte 0 first; we send uppercase and compare case-insensitively. Keyboard-wedge readers
type the UID as a number whose byte order varies by model, so the installer picks the
interpretation that matches the number printed on the card (`WedgeFormat`).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum

ID_TAG_MAX_LEN = 20  # IdToken is CiString20: a 10-byte UID fits exactly


class WedgeFormat(StrEnum):
    """How a keyboard-wedge reader writes the UID."""

    DEC_LE = "dec_le"  # 10-digit decimal of the 4 bytes little-endian (most 13.56 MHz wedges)
    DEC_BE = "dec_be"  # 10-digit decimal, big-endian
    HEX = "hex"  # hex digits, byte 0 first
    HEX_REVERSED = "hex_reversed"  # hex digits, last byte first


class IdTagStyle(StrEnum):
    """What the CSMS knows the card by."""

    HEX = "hex"  # uppercase hex of the UID bytes, byte 0 first (OCPP 1.6 §3.9)
    DECIMAL = "decimal"  # the decimal number a wedge printed (matches some card prints)


class BadUid(ValueError):
    """What the reader gave is not a UID in the configured format."""


def id_tag_from_uid(uid: bytes) -> str:
    if not 1 <= len(uid) <= ID_TAG_MAX_LEN // 2:
        raise BadUid(f"a UID has 1 to {ID_TAG_MAX_LEN // 2} bytes, got {len(uid)}")
    return uid.hex().upper()


def uid_from_wedge(text: str, fmt: WedgeFormat) -> bytes:
    """The UID bytes from the characters a wedge typed (without the Enter)."""
    text = text.strip()
    if fmt in (WedgeFormat.DEC_LE, WedgeFormat.DEC_BE):
        if not text.isdigit() or len(text) > 10:
            raise BadUid(f"{text!r} is not the up-to-10-digit number of a {fmt} reader")
        value = int(text)
        if value >= 1 << 32:
            raise BadUid(f"{text} does not fit 4 bytes")
        return value.to_bytes(4, "little" if fmt is WedgeFormat.DEC_LE else "big")
    if not text or len(text) % 2 or any(c not in string.hexdigits for c in text):
        raise BadUid(f"{text!r} is not an even number of hex digits")
    uid = bytes.fromhex(text)
    return uid if fmt is WedgeFormat.HEX else uid[::-1]


def id_tag_for(uid: bytes, style: IdTagStyle) -> str:
    """The idTag sent to the CSMS for these UID bytes."""
    if style is IdTagStyle.DECIMAL:
        if len(uid) != 4:
            raise BadUid("the decimal style needs a 4-byte UID")
        return str(int.from_bytes(uid, "little")).zfill(10)
    return id_tag_from_uid(uid)


def every_reading(text: str) -> dict[str, str]:
    """Every interpretation of one swipe, for the installer to match against the card print."""
    out: dict[str, str] = {}
    for fmt in WedgeFormat:
        try:
            out[fmt.value] = id_tag_from_uid(uid_from_wedge(text, fmt))
        except BadUid:
            continue
    return out


@dataclass
class Debouncer:
    """One event per presentation: the same UID again only after `hold_s` without seeing it.

    Every sighting restarts the hold, so a card resting on a PN532 or RC522 (read on every
    poll) is reported once, and a missed poll now and then (RC522 clones fail one REQA in
    ~20) does not make a second event. A different UID is reported at once.
    """

    hold_s: float
    _last_uid: bytes | None = None
    _last_seen_s: float = 0.0

    def offer(self, uid: bytes, now_s: float) -> bool:
        """A sighting at `now_s` (monotonic); True when it is a new presentation."""
        new = uid != self._last_uid or now_s - self._last_seen_s >= self.hold_s
        self._last_uid = uid
        self._last_seen_s = now_s
        return new
