"""An MFRC522 register file with an ISO 14443-3A card in front of it, and its SPI slave side on
gpiozero's mock pins, so the RC522 driver runs unchanged against it in tests.

What is emulated is what the driver relies on: SoftReset, the FIFO, ComIrq's Set1 semantics,
BitFraming's StartSend and TxLastBits, Transceive, the timer ending a transceive nobody
answers, and the card's side of WUPA/REQA, anticollision, SELECT (with CRC_A) and HLTA at
every cascade level. `miss_every` makes every n-th wake-up go unanswered, as clone boards do
with a resting card.
"""

from __future__ import annotations

from enum import Enum

from gpiozero.pins.mock import MockFactory, MockSPIDevice

from hw.rfid.iso14443a import HLTA, REQA, SEL, WUPA, bcc, cascade_levels, crc_a
from hw.rfid.rc522 import IRQ_IDLE, IRQ_RX, IRQ_TIMER, Cmd, Reg

VERSION = 0x92


class CardState(Enum):
    IDLE = "idle"
    READY = "ready"
    ACTIVE = "active"
    HALT = "halt"


class Rc522Chip:
    """The chip and the card, at register level: `read(reg)` and `write(reg, value)`."""

    def __init__(self, version: int = VERSION) -> None:
        self.version = version
        self.card: bytes | None = None
        self.miss_every = 0
        self.wakeups = 0
        self.transceives = 0
        self._reset()

    def _reset(self) -> None:
        self.regs = [0] * 64
        self.regs[Reg.VERSION] = self.version
        self.regs[Reg.COMMAND] = 0x20
        self.fifo: list[int] = []
        self.state = CardState.IDLE
        self.level = 0

    @property
    def antenna_on(self) -> bool:
        return self.regs[Reg.TX_CONTROL] & 0x03 == 0x03

    def read(self, reg: int) -> int:
        if reg == Reg.FIFO_DATA:
            return self.fifo.pop(0) if self.fifo else 0
        if reg == Reg.FIFO_LEVEL:
            return len(self.fifo)
        return self.regs[reg]

    def write(self, reg: int, value: int) -> None:
        if reg == Reg.FIFO_DATA:
            self.fifo.append(value)
        elif reg == Reg.FIFO_LEVEL:
            if value & 0x80:
                self.fifo.clear()
        elif reg == Reg.COM_IRQ:
            bits = value & 0x7F
            if value & 0x80:
                self.regs[reg] |= bits
            else:
                self.regs[reg] &= ~bits & 0xFF
        elif reg == Reg.COMMAND:
            if value & 0x0F == Cmd.SOFT_RESET:
                self._reset()
            else:
                self.regs[reg] = value
        elif reg == Reg.BIT_FRAMING:
            self.regs[reg] = value & 0x7F
            if value & 0x80 and self.regs[Reg.COMMAND] & 0x0F == Cmd.TRANSCEIVE:
                self._transceive(value & 0x07)
        elif reg != Reg.VERSION:
            self.regs[reg] = value

    def _transceive(self, last_bits: int) -> None:
        self.transceives += 1
        frame = bytes(self.fifo)
        self.fifo.clear()
        answer = self._card_answer(frame, last_bits) if self.antenna_on else None
        self.regs[Reg.CONTROL] = 0
        if answer is None:
            self.regs[Reg.COM_IRQ] |= IRQ_TIMER
            return
        self.fifo.extend(answer)
        self.regs[Reg.ERROR] = 0
        self.regs[Reg.COM_IRQ] |= IRQ_RX | IRQ_IDLE

    def _card_answer(self, frame: bytes, last_bits: int) -> bytes | None:
        uid = self.card
        if uid is None or not frame:
            return None
        if last_bits == 7 and frame in (bytes([REQA]), bytes([WUPA])):
            if frame[0] == REQA and self.state is CardState.HALT:
                return None
            self.wakeups += 1
            if self.miss_every and self.wakeups % self.miss_every == 0:
                return None
            self.state, self.level = CardState.READY, 0
            return b"\x04\x00" if len(uid) == 4 else b"\x44\x00"  # ATQA, LSB first
        if self.state is CardState.ACTIVE and frame == HLTA + crc_a(HLTA):
            self.state = CardState.HALT
            return None
        if self.state is not CardState.READY or frame[0] not in SEL:
            return None
        levels = cascade_levels(uid)
        level = SEL.index(frame[0])
        if level != self.level or level >= len(levels):
            return None
        part = levels[level] + bytes([bcc(levels[level])])
        if frame[1:] == b"\x20":
            return part
        if frame[1] == 0x70 and frame[2:7] == part and frame[7:] == crc_a(frame[:7]):
            last = level == len(levels) - 1
            sak = bytes([0x08 if last else 0x04])
            self.level += 1
            if last:
                self.state = CardState.ACTIVE
            return sak + crc_a(sak)
        return None


class MockRc522(MockSPIDevice):  # type: ignore[misc]  # gpiozero ships no types
    """The chip's SPI slave on SPI0: address byte (bit 7 = read), then the data byte."""

    def __init__(
        self,
        chip: Rc522Chip,
        factory: MockFactory,
        pins: tuple[int, int, int, int] = (11, 10, 9, 8),
    ) -> None:
        super().__init__(*pins, pin_factory=factory)
        self.chip = chip
        self._address = 0

    def on_bit(self) -> None:
        if self.rx_bit % 8:
            return
        byte = self.rx_word() & 0xFF
        self.rx_buf.clear()
        if self.rx_bit == 8:
            self._address = byte
            if byte & 0x80:
                self.tx_word(self.chip.read((byte >> 1) & 0x3F), 8)
        elif not self._address & 0x80:
            self.chip.write((self._address >> 1) & 0x3F, byte)
