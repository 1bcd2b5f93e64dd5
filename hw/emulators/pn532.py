"""A PN532 in HSU mode on a serial port (one end of a socat PTY pair), for tests and the bench.

It answers the real frames the way the chip does: asleep after power-up (LowVbat) it drops
everything until the 55 55 wake-up, and answers nothing but SAMConfiguration until that came;
then each command gets an ACK and a response. `card` is what lies on the antenna.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from hw.rfid.pn532_frames import (
    ACK,
    ERROR_FRAME,
    TFI_HOST,
    TFI_PN532,
    Command,
    FrameError,
    FrameReader,
    information_frame,
)

FIRMWARE = bytes([0x32, 0x01, 0x06, 0x07])  # PN532, version 1.6, supports ISO A/B, ISO 18092


class Pn532Emulator:
    def __init__(self, port: str) -> None:
        import serial

        self._serial: Any = serial.Serial(port, 115200, timeout=0.02)
        self.card: bytes | None = None
        self.asleep = True
        self.sam_configured = False
        self.muted = False  # a cut wire: nothing gets through either way
        self.max_passive_retries = 0xFF
        self.commands: list[int] = []  # every command answered, for the tests
        self.ignored = 0  # frames dropped while asleep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pn532-emulator", daemon=True)

    def __enter__(self) -> Pn532Emulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def power_cycle(self) -> None:
        """Back to LowVbat, as after a power dip: needs the wake-up and SAMConfiguration."""
        self.asleep = True
        self.sam_configured = False

    def _run(self) -> None:
        reader = FrameReader()
        while not self._stop.is_set():
            try:
                chunk = self._serial.read(256)
            except (OSError, TypeError):
                return  # port closed under us
            if not chunk or self.muted:
                continue
            if self.asleep:
                at = chunk.find(b"\x55\x55")
                if at < 0:
                    self.ignored += 1
                    continue
                self.asleep = False
                chunk = chunk[at + 2 :]
            try:
                frames = reader.feed(chunk)
            except FrameError:
                self._serial.write(ERROR_FRAME)
                continue
            for frame in frames:
                if frame.ack:
                    continue  # the host aborts a running command: nothing runs here
                if frame.tfi != TFI_HOST or not frame.data:
                    continue
                self._answer(frame.data[0], frame.data[1:])

    def _answer(self, code: int, params: bytes) -> None:
        if not self.sam_configured and code != Command.SAM_CONFIGURATION:
            self.ignored += 1  # still in LowVbat: the chip stays silent
            return
        self._serial.write(ACK)
        response = self._response(code, params)
        self.commands.append(code)
        if response is None:
            self._serial.write(ERROR_FRAME)
        else:
            self._serial.write(information_frame(TFI_PN532, bytes([code + 1]) + response))

    def _response(self, code: int, params: bytes) -> bytes | None:
        if code == Command.SAM_CONFIGURATION:
            if not params or params[0] != 0x01:
                return None
            self.sam_configured = True
            return b""
        if code == Command.GET_FIRMWARE_VERSION:
            return FIRMWARE
        if code == Command.RF_CONFIGURATION:
            if len(params) == 4 and params[0] == 0x05:
                self.max_passive_retries = params[3]
            return b""
        if code == Command.IN_LIST_PASSIVE_TARGET:
            if params[:2] != b"\x01\x00":
                return None  # only one target at 106 kbps type A is emulated
            card = self.card
            if card is None:
                return b"\x00"
            sens_res = b"\x00\x04" if len(card) == 4 else b"\x00\x44"
            sak = b"\x08" if len(card) == 4 else b"\x00"
            return b"\x01\x01" + sens_res + sak + bytes([len(card)]) + card
        if code == Command.IN_RELEASE:
            return b"\x00"
        return None

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            self._serial.close()
