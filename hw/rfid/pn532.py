"""A PN532 NFC reader in HSU mode (UART), as libnfc and EVerest drive it.

Start: wake-up bytes, SAMConfiguration (leaves LowVbat), RFConfiguration MaxRetries so that
InListPassiveTarget returns after two tries instead of blocking until a card comes (the
PN532's default), then GetFirmwareVersion. Each `read()` is one InListPassiveTarget. A command
without ACK is retried once after a new wake-up; a reader that stays silent is reopened on the
next read. Serial I/O is blocking pyserial in a worker thread, one command at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from hw.base import RawUid
from hw.errors import DriverIOError, DriverTimeout, DriverUnavailable
from hw.probe import ProbeResult
from hw.rfid.pn532_frames import (
    TFI_ERROR,
    TFI_PN532,
    WAKE_UP,
    Command,
    Frame,
    FrameError,
    FrameReader,
    command_frame,
    passive_target_uid,
)

log = logging.getLogger(__name__)

ABSENT_HOLD_S = 1.5
REOPEN_S = 5.0  # a reader that failed is opened again at most this often
ACK_TIMEOUT_S = 0.05  # libnfc: a PN532 acknowledges within a few ms
RESPONSE_TIMEOUT_S = 1.0
UART_FIX = (
    "free the UART: remove console=serial0,... from /boot/firmware/cmdline.txt, add "
    "dtoverlay=disable-bt to config.txt on a Pi 3/4/Zero W, set the board's mode switches to "
    "HSU, and wire TX to RX (docs/hardware.md, RFID readers)"
)
MISSING_PORT_FIX = (
    "enable the UART (enable_uart=1 in config.txt, then reboot) or fix port in the [rfid] "
    "table (ls -l /dev/serial0 /dev/ttyAMA0 /dev/ttyUSB*)"
)
SAM_NORMAL = bytes([0x01, 0x14, 0x01])  # normal mode, timeout 1 s (unused), use IRQ
MAX_RETRIES = bytes([0x05, 0xFF, 0x01, 0x02])  # CfgItem 5: ATR FF, PSL 01, passive activation 2
TYPE_A_106K = bytes([0x01, 0x00])  # one target, 106 kbps ISO/IEC 14443 type A


def _open_serial(port: str, baudrate: int) -> Any:
    import serial

    return serial.Serial(port, baudrate, timeout=0.01, write_timeout=1.0)


class Pn532Reader:
    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        poll_s: float = 0.3,
        open_serial: Callable[[str, int], Any] = _open_serial,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.poll_s = poll_s
        self._open = open_serial
        self._serial: Any = None
        self._lock = asyncio.Lock()
        self.firmware: tuple[int, int, int] | None = None
        self._reopen_at = 0.0

    @property
    def repeat_hold_s(self) -> float:
        return ABSENT_HOLD_S

    async def start(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._start)

    def _start(self) -> None:
        import serial

        try:
            self._serial = self._open(self.port, self.baudrate)
        except (serial.SerialException, OSError) as exc:
            if not os.path.exists(self.port):
                raise DriverUnavailable(
                    f"PN532: {self.port} does not exist; {MISSING_PORT_FIX}"
                ) from None
            raise DriverUnavailable(f"PN532 on {self.port}: {exc}; {UART_FIX}") from None
        try:
            self._serial.write(WAKE_UP)
            self._command(Command.SAM_CONFIGURATION, SAM_NORMAL)
            self._command(Command.RF_CONFIGURATION, MAX_RETRIES)
            data = self._command(Command.GET_FIRMWARE_VERSION)
        except DriverIOError as exc:
            self._close()
            raise DriverUnavailable(f"PN532 on {self.port}: {exc}; {UART_FIX}") from None
        if len(data) >= 4:
            self.firmware = (data[1], data[2], data[3])
        log.info("PN532 on %s: firmware %s", self.port, self.firmware_text)

    @property
    def firmware_text(self) -> str:
        if self.firmware is None:
            return "?"
        ic, ver, rev = self.firmware
        return f"PN5{ic:02x} {ver}.{rev}"

    def _command(self, command: Command, params: bytes = b"") -> bytes:
        """Send, wait for the ACK (waking the chip once more if none), return the response."""
        ser = self._serial
        for attempt in range(2):
            ser.reset_input_buffer()
            ser.write(command_frame(command, params))
            ser.flush()
            reader = FrameReader()
            pending: list[Frame] = []
            first = self._frame(reader, pending, ACK_TIMEOUT_S * (attempt + 1) * 4)
            if first is not None and first.ack:
                break
            ser.write(WAKE_UP)
            if command is not Command.SAM_CONFIGURATION:
                # asleep after a power dip: only SAMConfiguration wakes it for real
                self._command(Command.SAM_CONFIGURATION, SAM_NORMAL)
        else:
            raise DriverTimeout(f"no ACK from the PN532 for command 0x{command:02x}")
        frame = self._frame(reader, pending, RESPONSE_TIMEOUT_S)
        if frame is None:
            raise DriverTimeout(f"no response from the PN532 to command 0x{command:02x}")
        if frame.tfi == TFI_ERROR:
            raise DriverIOError(f"the PN532 refused command 0x{command:02x}")
        if frame.tfi != TFI_PN532 or not frame.data or frame.data[0] != command + 1:
            raise DriverIOError(f"unexpected PN532 frame {frame.tfi:02x} {frame.data.hex()}")
        return frame.data

    def _frame(self, reader: FrameReader, pending: list[Frame], timeout_s: float) -> Frame | None:
        """The next frame; an ACK and its response may arrive in one read, hence `pending`."""
        if pending:
            return pending.pop(0)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            chunk = self._serial.read(max(1, self._serial.in_waiting))
            if chunk:
                try:
                    pending += reader.feed(chunk)
                except FrameError as exc:
                    raise DriverIOError(f"garbled PN532 frame: {exc}") from None
                if pending:
                    return pending.pop(0)
        return None

    async def read(self) -> RawUid | None:
        started = time.monotonic()
        uid = None
        async with self._lock:
            try:
                if self._serial is None and time.monotonic() >= self._reopen_at:
                    await asyncio.to_thread(self._start)
                if self._serial is not None:
                    uid = await asyncio.to_thread(self._poll)
            except (DriverIOError, DriverUnavailable) as exc:
                log.warning("PN532 on %s: %s", self.port, exc)
                await asyncio.to_thread(self._close)
                self._reopen_at = time.monotonic() + REOPEN_S
        await asyncio.sleep(max(0.0, self.poll_s - (time.monotonic() - started)))
        return None if uid is None else RawUid(uid, f"pn532:{self.port}")

    def _poll(self) -> bytes | None:
        data = self._command(Command.IN_LIST_PASSIVE_TARGET, TYPE_A_106K)
        try:
            uid = passive_target_uid(data)
        except FrameError as exc:
            raise DriverIOError(str(exc)) from None
        if uid is not None:
            self._command(Command.IN_RELEASE, b"\x00")
        return uid

    def _close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(OSError):
                ser.close()

    async def close(self) -> None:
        async with self._lock:
            self._close()


async def probe(port: str, baudrate: int = 115200) -> list[ProbeResult]:
    name = f"RFID PN532 ({port})"
    reader = Pn532Reader(port, baudrate)
    try:
        await reader.start()
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    await reader.close()
    return [ProbeResult(name, True, f"firmware {reader.firmware_text}, answering")]
