"""The PN532 driver against the emulator, real frames over a socat PTY pair."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from hw.emulators.pn532 import Pn532Emulator
from hw.errors import DriverUnavailable
from hw.rfid.pn532 import Pn532Reader, probe
from hw.rfid.pn532_frames import (
    ACK,
    Command,
    FrameError,
    FrameReader,
    command_frame,
    passive_target_uid,
)


def test_frames_are_the_datasheet_bytes():
    # SAMConfiguration normal mode, as in libnfc and the Adafruit driver
    assert command_frame(Command.SAM_CONFIGURATION, bytes([1, 0x14, 1])).hex() == (
        "0000ff05fbd4140114010200"
    )
    assert command_frame(Command.GET_FIRMWARE_VERSION).hex() == "0000ff02fed4022a00"
    frames = FrameReader().feed(ACK + bytes.fromhex("0000ff06fad50332010607e800"))
    assert frames[0].ack and frames[1].data == bytes.fromhex("0332010607")


def test_frame_reader_finds_frames_split_and_after_noise():
    r = FrameReader()
    raw = bytes.fromhex("55550000") + command_frame(Command.IN_RELEASE, b"\x00")
    assert r.feed(raw[:7]) == []
    (frame,) = r.feed(raw[7:])
    assert frame.data == bytes([0x52, 0x00])


def test_bad_checksum_is_an_error():
    bad = bytearray(command_frame(Command.IN_RELEASE, b"\x00"))
    bad[-2] ^= 1
    with pytest.raises(FrameError):
        FrameReader().feed(bytes(bad))


def test_passive_target_uid():
    data = bytes.fromhex("4b01010004080411223344")
    assert passive_target_uid(data) == bytes.fromhex("11223344")
    assert passive_target_uid(bytes.fromhex("4b00")) is None


@pytest.fixture
def pty_pair(tmp_path):
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    host, chip = tmp_path / "ttyPN532", tmp_path / "ttyChip"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={chip}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(250):
        if host.exists() and chip.exists():
            break
        time.sleep(0.02)
    yield str(host), str(chip)
    proc.kill()
    proc.wait()


async def test_wakes_the_chip_and_reads_cards(pty_pair):
    host, chip = pty_pair
    with Pn532Emulator(chip) as emu:
        reader = Pn532Reader(host, poll_s=0.05)
        await reader.start()
        try:
            assert not emu.asleep and emu.sam_configured
            assert emu.commands[:3] == [0x14, 0x32, 0x02]
            assert emu.max_passive_retries == 0x02  # InListPassiveTarget must not block
            assert reader.firmware_text == "PN532 1.6"
            assert await reader.read() is None
            emu.card = bytes.fromhex("1C78F2BF")
            got = await reader.read()
            assert got is not None and got.uid == bytes.fromhex("1C78F2BF")
            assert got.source == f"pn532:{host}"
            emu.card = bytes.fromhex("04C43BC21C2680")  # 7-byte UID, whole
            got = await reader.read()
            assert got is not None and got.uid.hex().upper() == "04C43BC21C2680"
        finally:
            await reader.close()


async def test_a_chip_back_in_lowvbat_is_woken_again(pty_pair):
    host, chip = pty_pair
    with Pn532Emulator(chip) as emu:
        reader = Pn532Reader(host, poll_s=0.05)
        await reader.start()
        try:
            emu.power_cycle()
            emu.card = bytes.fromhex("11223344")
            got = None
            for _ in range(3):
                got = got or await reader.read()
            assert got is not None and got.uid == bytes.fromhex("11223344")
            assert emu.sam_configured
        finally:
            await reader.close()


async def test_silent_port_is_unavailable_with_the_uart_fix(pty_pair):
    host, _chip = pty_pair  # nothing answers on the other end
    with pytest.raises(DriverUnavailable, match="dtoverlay=disable-bt"):
        await Pn532Reader(host).start()


async def test_probe_rows(pty_pair, tmp_path):
    host, chip = pty_pair
    with Pn532Emulator(chip):
        (row,) = await probe(host)
    assert row.ok and "PN532 1.6" in row.detail
    (row,) = await probe(str(tmp_path / "ttyNone"))
    assert not row.ok and row.fix is not None and "enable_uart=1" in row.fix


async def test_a_reader_that_goes_silent_is_reopened_later(pty_pair, monkeypatch, caplog):
    monkeypatch.setattr("hw.rfid.pn532.REOPEN_S", 0.3)
    host, chip = pty_pair
    with Pn532Emulator(chip) as emu:
        reader = Pn532Reader(host, poll_s=0.05)
        await reader.start()
        try:
            emu.muted = True
            emu.card = bytes.fromhex("11223344")
            assert await reader.read() is None
            assert "no ACK from the PN532" in caplog.text
            warnings = caplog.text.count("PN532 on")
            assert await reader.read() is None  # within REOPEN_S: no new attempt, no new line
            assert caplog.text.count("PN532 on") == warnings
            emu.muted = False
            emu.power_cycle()
            got = None
            for _ in range(20):
                got = got or await reader.read()
                if got:
                    break
            assert got is not None and got.uid == bytes.fromhex("11223344")
        finally:
            await reader.close()
