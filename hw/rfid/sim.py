"""The simulated twin of a reader: code puts a card on it and takes it off (demo, tests).

It behaves like a PN532 or RC522 seen from the service: the card is reported on every poll
while it lies there, so the same debouncer runs as with the real readers.
"""

from __future__ import annotations

import asyncio

from hw.base import RawUid
from hw.probe import ProbeResult

SIM_HOLD_S = 1.5


class SimReader:
    def __init__(self, poll_s: float = 0.2) -> None:
        self.poll_s = poll_s
        self.card: bytes | None = None
        self.started = False

    @property
    def repeat_hold_s(self) -> float:
        return SIM_HOLD_S

    def put(self, uid: bytes) -> None:
        self.card = uid

    def take(self) -> None:
        self.card = None

    async def start(self) -> None:
        self.started = True

    async def read(self) -> RawUid | None:
        await asyncio.sleep(self.poll_s)
        return None if self.card is None else RawUid(self.card, "sim")

    async def close(self) -> None:
        self.started = False


async def probe() -> list[ProbeResult]:
    return [ProbeResult("RFID reader (simulated)", True, "cards come from `chargectl tag`")]
