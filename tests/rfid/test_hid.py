"""The keyboard-wedge driver: a real uinput device where the kernel has one, and its read
path fed with evdev's own event objects where it has not."""

from __future__ import annotations

import asyncio
import errno
import os
import time

import pytest
from evdev import InputEvent, ecodes

from hw.base import TokenReader
from hw.errors import DriverUnavailable
from hw.rfid.hid import HidWedgeReader, probe
from hw.rfid.tag import WedgeFormat


def _typed(text: str, t0: float) -> list[InputEvent]:
    events = []
    for i, ch in enumerate([*text, "ENTER"]):
        code = ecodes.ecodes["KEY_" + ch.upper()]
        t = t0 + i * 0.004
        for value in (1, 0):
            events.append(InputEvent(int(t), int((t % 1) * 1e6), ecodes.EV_KEY, code, value))
        events.append(InputEvent(int(t), int((t % 1) * 1e6), ecodes.EV_SYN, 0, 0))
    return events


class FakeInputDevice:
    """Stands in for evdev.InputDevice where the kernel has no uinput: same methods used."""

    name = "Sycreader RFID Technology Co., Ltd SYC ID&IC USB Reader"

    def __init__(self, path: str) -> None:
        self.path = path
        self.queue: asyncio.Queue[InputEvent | OSError] = asyncio.Queue()
        self.grabbed = False
        self.closed = False

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        self.closed = True

    async def async_read_loop(self):
        while True:
            item = await self.queue.get()
            if isinstance(item, OSError):
                raise item
            yield item


async def test_typed_card_becomes_a_uid_and_the_device_is_grabbed(caplog):
    devices: list[FakeInputDevice] = []

    def opener(path):
        devices.append(FakeInputDevice(path))
        return devices[-1]

    caplog.set_level("INFO")
    reader = HidWedgeReader("/dev/input/chargectl-rfid", poll_s=0.2, open_device=opener)
    assert isinstance(reader, TokenReader)
    await reader.start()
    try:
        assert devices[0].grabbed
        for ev in _typed("3220338716", time.time()):
            devices[0].queue.put_nowait(ev)
        got = await reader.read()
        assert got is not None and got.uid == bytes.fromhex("1C78F2BF")
        assert got.source == "hid:/dev/input/chargectl-rfid"
        # the journal line an installer reads to choose wedge_format
        assert "typed 3220338716 (dec_le 1C78F2BF, dec_be BFF2781C, hex 3220338716" in caplog.text
        assert await reader.read() is None
    finally:
        await reader.close()
    assert devices[0].closed and not devices[0].grabbed


async def test_garbage_line_is_logged_and_skipped(caplog):
    dev = FakeInputDevice("/dev/input/x")
    reader = HidWedgeReader("/dev/input/x", WedgeFormat.HEX, poll_s=0.2, open_device=lambda p: dev)
    await reader.start()
    try:
        for ev in _typed("123", time.time()):  # odd number of hex digits
            dev.queue.put_nowait(ev)
        assert await reader.read() is None
        assert "typed '123'" in caplog.text
    finally:
        await reader.close()


async def test_unplugged_reader_is_opened_again():
    devices: list[FakeInputDevice] = []
    present = {"yes": True}

    def opener(path):
        if not present["yes"]:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        devices.append(FakeInputDevice(path))
        return devices[-1]

    reader = HidWedgeReader("/dev/input/r", poll_s=0.05, reopen_s=0.1, open_device=opener)
    await reader.start()
    try:
        present["yes"] = False
        devices[0].queue.put_nowait(OSError(errno.ENODEV, "No such device"))
        for _ in range(5):
            assert await reader.read() is None
        present["yes"] = True
        for _ in range(20):
            if len(devices) == 2:
                break
            await reader.read()
        assert len(devices) == 2 and devices[1].grabbed and devices[0].closed
        for ev in _typed("0477688511", time.time()):
            devices[1].queue.put_nowait(ev)
        got = None
        for _ in range(5):
            got = got or await reader.read()
        assert got is not None and got.uid == bytes.fromhex("BFF2781C")  # dec_le default
    finally:
        await reader.close()


async def test_missing_device_names_the_fix(tmp_path):
    with pytest.raises(DriverUnavailable, match="by-id"):
        await HidWedgeReader(str(tmp_path / "event99")).start()
    (row,) = await probe(str(tmp_path / "event99"))
    assert not row.ok and row.fix is not None and "udev" in row.fix


UINPUT = "/dev/uinput"


@pytest.mark.skipif(
    not os.path.exists(UINPUT) or not os.access(UINPUT, os.W_OK),
    reason=f"{UINPUT} missing (this kernel has no uinput module loaded): the same read path "
    "is covered with evdev's event objects above",
)
async def test_uinput_virtual_reader_round_trip():
    from evdev import InputDevice as RealDevice
    from evdev import UInput, list_devices

    keys = [ecodes.ecodes[f"KEY_{c}"] for c in "0123456789"] + [ecodes.KEY_ENTER]
    with UInput(
        {ecodes.EV_KEY: keys}, name="chargectl-test-rfid", vendor=0xFFFF, product=0x35
    ) as ui:
        path = None
        for _ in range(50):  # udev needs a moment to create the node
            for p in list_devices():
                if RealDevice(p).name == "chargectl-test-rfid":
                    path = p
            if path:
                break
            await asyncio.sleep(0.02)
        assert path is not None
        reader = HidWedgeReader(path, poll_s=1.0)
        await reader.start()
        try:
            for ch in "3220338716":
                code = ecodes.ecodes[f"KEY_{ch}"]
                ui.write(ecodes.EV_KEY, code, 1)
                ui.write(ecodes.EV_KEY, code, 0)
                ui.syn()
            ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 1)
            ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 0)
            ui.syn()
            got = await reader.read()
            assert got is not None and got.uid == bytes.fromhex("1C78F2BF")
        finally:
            await reader.close()
