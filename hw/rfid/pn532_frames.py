"""PN532 host-interface frames (UM0701-02 §6.2; libnfc pn53x), shared by the driver and the
emulator so both speak exactly the same bytes.

Normal information frame: 00 | 00 FF | LEN | LCS | TFI | PD0..PDn | DCS | 00 with
LEN + LCS ≡ 0 and TFI + ΣPD + DCS ≡ 0 (mod 256); TFI D4 host to PN532, D5 back. Every
command is answered by an ACK frame first, then by a response whose code is the command's + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

ACK = bytes.fromhex("0000ff00ff00")
NACK = bytes.fromhex("0000ffff0000")
ERROR_FRAME = bytes.fromhex("0000ff01ff7f8100")
# After power-up or PowerDown the HSU sleeps (LowVbat) and drops the first bytes it gets:
# 55 55 and zeros wake it; SAMConfiguration must follow (libnfc pn532_uart_send, 16 bytes).
WAKE_UP = b"\x55\x55" + bytes(14)
TFI_HOST = 0xD4
TFI_PN532 = 0xD5
TFI_ERROR = 0x7F


class Command(IntEnum):
    GET_FIRMWARE_VERSION = 0x02
    SAM_CONFIGURATION = 0x14
    RF_CONFIGURATION = 0x32
    IN_LIST_PASSIVE_TARGET = 0x4A
    IN_RELEASE = 0x52


class FrameError(ValueError):
    """Bytes that cannot be a PN532 frame (bad checksum, bad length)."""


def information_frame(tfi: int, data: bytes) -> bytes:
    body = bytes([tfi]) + data
    if len(body) > 255:
        raise FrameError("extended frames are not used here")
    length = len(body)
    return (
        b"\x00\x00\xff"
        + bytes([length, (-length) & 0xFF])
        + body
        + bytes([(-sum(body)) & 0xFF, 0x00])
    )


def command_frame(command: Command, params: bytes = b"") -> bytes:
    return information_frame(TFI_HOST, bytes([command]) + params)


@dataclass(frozen=True, slots=True)
class Frame:
    """One received frame: an ACK, a NACK, or TFI and data (data[0] is the command code)."""

    ack: bool = False
    nack: bool = False
    tfi: int = 0
    data: bytes = b""


@dataclass
class FrameReader:
    """Finds frames in a byte stream that may start mid-frame or carry wake-up bytes."""

    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buf += chunk
        frames: list[Frame] = []
        while True:
            start = self._buf.find(b"\x00\xff")
            if start < 0:
                del self._buf[: max(0, len(self._buf) - 1)]
                return frames
            del self._buf[:start]
            if len(self._buf) < 4:
                return frames
            length, lcs = self._buf[2], self._buf[3]
            if length == 0x00 and lcs == 0xFF:
                frames.append(Frame(ack=True))
                del self._buf[:4]
                continue
            if length == 0xFF and lcs == 0x00:
                frames.append(Frame(nack=True))
                del self._buf[:4]
                continue
            if (length + lcs) & 0xFF:
                del self._buf[:2]  # not a start of frame after all: look further on
                continue
            if len(self._buf) < 4 + length + 1:
                return frames
            body = bytes(self._buf[4 : 4 + length])
            dcs = self._buf[4 + length]
            del self._buf[: 4 + length + 1]
            if (sum(body) + dcs) & 0xFF:
                raise FrameError(f"data checksum wrong in {body.hex()}")
            frames.append(Frame(tfi=body[0], data=body[1:]))


def passive_target_uid(data: bytes) -> bytes | None:
    """The NFCID1 of the first target in an InListPassiveTarget (106 kbps type A) response.

    Layout: 4B NbTg | Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1… [ATS].
    """
    if len(data) < 2 or data[0] != Command.IN_LIST_PASSIVE_TARGET + 1:
        raise FrameError(f"not an InListPassiveTarget response: {data.hex()}")
    if data[1] == 0:
        return None
    if len(data) < 7 or len(data) < 7 + data[6]:
        raise FrameError(f"target data too short: {data.hex()}")
    return bytes(data[7 : 7 + data[6]])
