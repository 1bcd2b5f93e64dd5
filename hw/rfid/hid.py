"""A USB keyboard-wedge RFID reader, read through evdev with the device grabbed.

Grabbing (EVIOCGRAB) keeps the typed UID away from the login console and any other program.
The reader gives no removal information, so the same card is held back for 3 s after it was
last typed (`repeat_hold_s`). Unplugging ends the read loop with an OSError; the next `read()`
opens the device again, at most every `REOPEN_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections.abc import Callable
from typing import Any

from hw.base import RawUid
from hw.errors import DriverUnavailable
from hw.probe import ProbeResult
from hw.rfid.keys import WedgeDecoder
from hw.rfid.tag import BadUid, WedgeFormat, every_reading, uid_from_wedge

log = logging.getLogger(__name__)

WEDGE_HOLD_S = 3.0
REOPEN_S = 2.0
EVDEV_FIX = (
    "install python-evdev into the service's environment (it compiles): sudo apt install gcc "
    "python3-dev; sudo /opt/chargectl/venv/bin/pip install 'evdev>=1.6,<3'"
)


def _open_evdev(path: str) -> Any:
    try:
        import evdev
    except ImportError:
        raise DriverUnavailable(f"keyboard-wedge reader {path}: no evdev; {EVDEV_FIX}") from None
    return evdev.InputDevice(path)


def open_fix(path: str, exc: OSError) -> str:
    """The sentence that tells a person how to get the device opened."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"no permission on {path}: run the service with SupplementaryGroups=input, or add "
            'a udev rule with GROUP="input" (docs/hardware.md, RFID readers)'
        )
    return (
        f"{path} does not exist: plug the reader in and find it under /dev/input/by-id/ "
        "(…-event-kbd), or give it a stable name with the udev rule in docs/hardware.md"
    )


class HidWedgeReader:
    def __init__(
        self,
        path: str,
        wedge_format: WedgeFormat = WedgeFormat.DEC_LE,
        *,
        poll_s: float = 0.5,
        reopen_s: float = REOPEN_S,
        open_device: Callable[[str], Any] = _open_evdev,
    ) -> None:
        self.path = path
        self.wedge_format = wedge_format
        self.poll_s = poll_s
        self.reopen_s = reopen_s
        self._open = open_device
        self._device: Any = None
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._next_open_s = 0.0

    @property
    def repeat_hold_s(self) -> float:
        return WEDGE_HOLD_S

    async def start(self) -> None:
        try:
            device = self._open(self.path)
        except OSError as exc:
            raise DriverUnavailable(
                f"keyboard-wedge reader {self.path}: {exc.strerror}; {open_fix(self.path, exc)}"
            ) from None
        try:
            device.grab()
        except OSError as exc:
            device.close()
            raise DriverUnavailable(
                f"keyboard-wedge reader {self.path} is grabbed by another program "
                f"({exc.strerror}); stop it (fuser -v {self.path})"
            ) from None
        self._device = device
        self._task = asyncio.create_task(self._pump(device), name=f"rfid-hid:{self.path}")
        log.info("keyboard-wedge reader %s (%s) grabbed", self.path, getattr(device, "name", "?"))

    async def _pump(self, device: Any) -> None:
        decoder = WedgeDecoder()
        async for ev in device.async_read_loop():
            line = decoder.feed(ev.type, ev.code, ev.value, ev.timestamp())
            if line is not None:
                self._lines.put_nowait(line)

    async def read(self) -> RawUid | None:
        if self._task is not None and self._task.done():
            await self._lost()
        if self._task is None:
            await self._reopen()
            if self._task is None:
                await asyncio.sleep(self.poll_s)
                return None
        try:
            line = await asyncio.wait_for(self._lines.get(), self.poll_s)
        except TimeoutError:
            return None
        # Every reading of the swipe, so an installer can match the number on the card or the
        # one the CSMS knows and pick wedge_format from the journal.
        readings = ", ".join(f"{k} {v}" for k, v in every_reading(line).items())
        log.info("keyboard-wedge reader %s typed %s (%s)", self.path, line, readings)
        try:
            return RawUid(uid_from_wedge(line, self.wedge_format), f"hid:{self.path}")
        except BadUid as exc:
            log.warning("keyboard-wedge reader %s typed %r: %s", self.path, line, exc)
            return None

    async def _lost(self) -> None:
        assert self._task is not None
        exc = None if self._task.cancelled() else self._task.exception()
        log.warning("keyboard-wedge reader %s gone (%s): opening it again", self.path, exc or "end")
        self._task = None
        self._release()
        self._next_open_s = time.monotonic() + self.reopen_s

    async def _reopen(self) -> None:
        if time.monotonic() < self._next_open_s:
            return
        try:
            await self.start()
        except DriverUnavailable as exc:
            self._next_open_s = time.monotonic() + self.reopen_s
            log.debug("%s", exc)

    def _release(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(OSError):
                device.ungrab()
            with contextlib.suppress(OSError):
                device.close()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        self._release()


async def probe(path: str, open_device: Callable[[str], Any] = _open_evdev) -> list[ProbeResult]:
    name = f"RFID keyboard wedge ({path})"
    reader = HidWedgeReader(path, open_device=open_device)
    try:
        await reader.start()
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    device_name = getattr(reader._device, "name", "?")
    await reader.close()
    return [ProbeResult(name, True, f"{device_name}: opened and grabbed")]
