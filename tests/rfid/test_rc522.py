"""The RC522 driver through gpiozero's SPI code against an emulated MFRC522 and card."""

from __future__ import annotations

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hw.emulators.rc522 import CardState, MockRc522, Rc522Chip
from hw.errors import DriverUnavailable
from hw.rfid.iso14443a import cascade_levels, crc_a
from hw.rfid.rc522 import Rc522Reader, probe
from hw.rfid.tag import Debouncer


def test_crc_a_known_values():
    # ISO/IEC 14443-3 Annex B: CRC_A of 00 00 is A0 1E; of HLTA 50 00 is 57 CD
    assert crc_a(b"\x00\x00") == bytes([0xA0, 0x1E])
    assert crc_a(b"\x50\x00") == bytes([0x57, 0xCD])


def test_cascade_levels_of_a_7_byte_uid():
    assert cascade_levels(bytes.fromhex("04C43BC21C2680")) == [
        bytes.fromhex("8804C43B"),
        bytes.fromhex("C21C2680"),
    ]


@pytest.fixture
def rc522():
    factory = MockFactory()
    saved = Device.pin_factory
    Device.pin_factory = factory  # gpiozero's software SPI bus uses the default factory
    chip = Rc522Chip()
    dev = MockRc522(chip, factory)
    yield factory, chip
    dev.close()
    factory.reset()
    Device.pin_factory = saved


async def test_reads_4_7_and_10_byte_uids(rc522):
    factory, chip = rc522
    reader = Rc522Reader(0, 0, reset_gpio=25, poll_s=0.0, pin_factory=factory)
    await reader.start()
    try:
        assert chip.antenna_on and chip.regs[0x2A] == 0x8D  # set-up really written
        assert factory.pin(25).state == 1  # RST held high: running
        assert reader.version_text == "MFRC522 2.0"
        assert await reader.read() is None
        for hex_uid in ("1C78F2BF", "04C43BC21C2680", "0102030405060708090A"):
            chip.card = bytes.fromhex(hex_uid)
            got = await reader.read()
            assert got is not None and got.uid.hex().upper() == hex_uid
            assert chip.state is CardState.HALT  # HLTA sent after the selection
    finally:
        await reader.close()
    assert factory.pin(25).state == 0


async def test_resting_card_with_missed_wakeups_is_one_presentation(rc522):
    factory, chip = rc522
    chip.card = bytes.fromhex("1C78F2BF")
    chip.miss_every = 4  # a clone failing a wake-up now and then
    reader = Rc522Reader(0, 0, reset_gpio=None, poll_s=0.0, pin_factory=factory)
    await reader.start()
    debounce = Debouncer(reader.repeat_hold_s)
    events = 0
    misses = 0
    try:
        for i in range(12):  # polls 0.2 s apart
            got = await reader.read()
            if got is None:
                misses += 1
            elif debounce.offer(got.uid, i * 0.2):
                events += 1
    finally:
        await reader.close()
    assert misses == 3 and events == 1


async def test_nothing_on_the_bus_names_the_fix(rc522):
    factory, chip = rc522
    chip.version = 0x00  # MISO floating low: no chip
    chip.regs[0x37] = 0x00
    with pytest.raises(DriverUnavailable, match="dtparam=spi=on"):
        await Rc522Reader(0, 0, reset_gpio=None, pin_factory=factory).start()


async def test_probe_row(rc522):
    factory, _chip = rc522
    (row,) = await probe(0, 0, None, pin_factory=factory)
    assert row.ok and "MFRC522 2.0" in row.detail
