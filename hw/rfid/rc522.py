"""An MFRC522 ("RC522") reader on SPI, through gpiozero's SPI interface.

Each `read()` runs one ISO 14443-3A selection: WUPA (wakes halted cards too, so a card left on
the reader is read again and the debouncer sees it stay), anticollision and SELECT per cascade
level, then HLTA. Completion is polled with a bounded loop whose exit really tests the IRQ
bits (pi-rc522 spins its counter on every empty poll). The chip's own 15 ms timer ends a
transceive that no card answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from enum import IntEnum
from typing import Any

from hw.base import RawUid
from hw.errors import DriverIOError, DriverUnavailable
from hw.probe import ProbeResult
from hw.rfid.iso14443a import HLTA, SAK_UID_INCOMPLETE, SEL, WUPA, bcc, crc_a

log = logging.getLogger(__name__)

ABSENT_HOLD_S = 1.5
REOPEN_S = 5.0  # a reader that failed is opened again at most this often
SPI_FIX = (
    "enable SPI (dtparam=spi=on in config.txt, then reboot), wire SDA to CE0/CE1, SCK, MOSI, "
    "MISO, RST and 3.3 V (never 5 V), see docs/hardware.md, RFID readers"
)
GENUINE_VERSIONS = {0x91: "1.0", 0x92: "2.0"}


class Reg(IntEnum):
    COMMAND = 0x01
    COM_IEN = 0x02
    COM_IRQ = 0x04
    DIV_IRQ = 0x05
    ERROR = 0x06
    STATUS2 = 0x08
    FIFO_DATA = 0x09
    FIFO_LEVEL = 0x0A
    CONTROL = 0x0C
    BIT_FRAMING = 0x0D
    COLL = 0x0E
    MODE = 0x11
    TX_CONTROL = 0x14
    TX_ASK = 0x15
    RF_CFG = 0x26
    T_MODE = 0x2A
    T_PRESCALER = 0x2B
    T_RELOAD_HI = 0x2C
    T_RELOAD_LO = 0x2D
    VERSION = 0x37


class Cmd(IntEnum):
    IDLE = 0x00
    CALC_CRC = 0x03
    TRANSCEIVE = 0x0C
    SOFT_RESET = 0x0F


IRQ_RX = 0x20
IRQ_IDLE = 0x10
IRQ_TIMER = 0x01
ERR_MASK = 0x13  # BufferOvfl, ParityErr, ProtocolErr (CollErr handled by the level loop)
POLL_LIMIT = 200  # register reads before a transceive counts as hung


def spi_address(reg: int, read: bool) -> int:
    return ((reg << 1) & 0x7E) | (0x80 if read else 0)


class Rc522Reader:
    def __init__(
        self,
        spi_port: int = 0,
        spi_device: int = 0,
        reset_gpio: int | None = 25,
        *,
        poll_s: float = 0.2,
        pin_factory: Any = None,
    ) -> None:
        self.spi_port = spi_port
        self.spi_device = spi_device
        self.reset_gpio = reset_gpio
        self.poll_s = poll_s
        self._factory = pin_factory
        self._spi: Any = None
        self._reset: Any = None
        self.version: int | None = None
        self._reopen_at = 0.0

    @property
    def where(self) -> str:
        return f"SPI {self.spi_port}.{self.spi_device}"

    @property
    def repeat_hold_s(self) -> float:
        return ABSENT_HOLD_S

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    def _start(self) -> None:
        import gpiozero
        from gpiozero import Device

        try:
            factory = self._factory
            if factory is None:
                Device.ensure_pin_factory()
                factory = Device.pin_factory
            if self.reset_gpio is not None:
                self._reset = gpiozero.DigitalOutputDevice(
                    self.reset_gpio, initial_value=True, pin_factory=factory
                )
            self._spi = factory.spi(port=self.spi_port, device=self.spi_device)
        except (gpiozero.GPIOZeroError, OSError) as exc:
            self._close()
            raise DriverUnavailable(f"RC522 on {self.where}: {exc}; {SPI_FIX}") from None
        self._write(Reg.COMMAND, Cmd.SOFT_RESET)
        time.sleep(0.05)
        version = self._read(Reg.VERSION)
        if version in (0x00, 0xFF):
            self._close()
            raise DriverUnavailable(
                f"no RC522 answers on {self.where} (version register reads 0x{version:02x}); "
                f"{SPI_FIX}"
            )
        self.version = version
        # pi-rc522's set-up: 0.5 ms timer ticks, 15 ms timeout, 100 % ASK, CRC preset 6363
        for reg, value in (
            (Reg.T_MODE, 0x8D),
            (Reg.T_PRESCALER, 0x3E),
            (Reg.T_RELOAD_LO, 30),
            (Reg.T_RELOAD_HI, 0),
            (Reg.TX_ASK, 0x40),
            (Reg.MODE, 0x3D),
            (Reg.RF_CFG, 0x04 << 4),  # 33 dB receiver gain
        ):
            self._write(reg, value)
        self._write(Reg.TX_CONTROL, self._read(Reg.TX_CONTROL) | 0x03)  # antenna on
        log.info("RC522 on %s: %s", self.where, self.version_text)

    @property
    def version_text(self) -> str:
        if self.version is None:
            return "?"
        known = GENUINE_VERSIONS.get(self.version)
        return f"MFRC522 {known}" if known else f"version 0x{self.version:02x} (a clone)"

    def _read(self, reg: Reg) -> int:
        return int(self._spi.transfer([spi_address(reg, True), 0])[1])

    def _write(self, reg: Reg, value: int) -> None:
        self._spi.transfer([spi_address(reg, False), value & 0xFF])

    def _transceive(self, data: bytes, last_bits: int = 0) -> bytes | None:
        """Send `data`; the card's answer, or None when no card answered before the timer."""
        self._write(Reg.COMMAND, Cmd.IDLE)
        self._write(Reg.COM_IRQ, 0x7F)  # clear every request bit
        self._write(Reg.FIFO_LEVEL, 0x80)  # flush
        for byte in data:
            self._write(Reg.FIFO_DATA, byte)
        self._write(Reg.BIT_FRAMING, last_bits & 0x07)
        self._write(Reg.COMMAND, Cmd.TRANSCEIVE)
        self._write(Reg.BIT_FRAMING, 0x80 | (last_bits & 0x07))  # StartSend
        for _ in range(POLL_LIMIT):
            irq = self._read(Reg.COM_IRQ)
            if irq & (IRQ_RX | IRQ_IDLE | IRQ_TIMER):
                break
        else:
            raise DriverIOError(f"RC522 on {self.where}: a transceive never completed")
        self._write(Reg.BIT_FRAMING, 0x00)
        if not irq & IRQ_RX:
            return None
        if self._read(Reg.ERROR) & ERR_MASK:
            return None  # a garbled answer is a miss; the next poll tries again
        n = self._read(Reg.FIFO_LEVEL) & 0x7F
        return bytes(self._read(Reg.FIFO_DATA) for _ in range(n))

    def _select(self) -> bytes | None:
        atqa = self._transceive(bytes([WUPA]), last_bits=7)
        if atqa is None or len(atqa) != 2:
            return None
        uid = b""
        for sel in SEL:
            part = self._transceive(bytes([sel, 0x20]))
            if part is None or len(part) != 5 or bcc(part[:4]) != part[4]:
                return None
            frame = bytes([sel, 0x70]) + part
            sak = self._transceive(frame + crc_a(frame))
            if sak is None or len(sak) != 3 or crc_a(sak[:1]) != sak[1:]:
                return None
            if sak[0] & SAK_UID_INCOMPLETE:
                uid += part[1:4]  # part[0] is the cascade tag 88
                continue
            uid += part[:4]
            self._transceive(HLTA + crc_a(HLTA))  # no answer expected
            return uid
        return None

    async def read(self) -> RawUid | None:
        started = time.monotonic()
        uid = None
        try:
            if self._spi is None and time.monotonic() >= self._reopen_at:
                await self.start()
            if self._spi is not None:
                uid = await asyncio.to_thread(self._select)
        except (DriverIOError, DriverUnavailable) as exc:
            log.warning("%s", exc)
            await asyncio.to_thread(self._close)
            self._reopen_at = time.monotonic() + REOPEN_S
        await asyncio.sleep(max(0.0, self.poll_s - (time.monotonic() - started)))
        return None if uid is None else RawUid(uid, f"rc522:{self.where}")

    def _close(self) -> None:
        spi, self._spi = self._spi, None
        reset, self._reset = self._reset, None
        if spi is not None:
            with contextlib.suppress(Exception):
                spi.close()
        if reset is not None:
            with contextlib.suppress(Exception):
                reset.off()  # hard power-down while unused
                reset.close()

    async def close(self) -> None:
        self._close()


async def probe(
    spi_port: int = 0, spi_device: int = 0, reset_gpio: int | None = 25, pin_factory: Any = None
) -> list[ProbeResult]:
    reader = Rc522Reader(spi_port, spi_device, reset_gpio, pin_factory=pin_factory)
    name = f"RFID RC522 ({reader.where})"
    try:
        await reader.start()
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    text = reader.version_text
    await reader.close()
    return [ProbeResult(name, True, f"{text}, answering")]
