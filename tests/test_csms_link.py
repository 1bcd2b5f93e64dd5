"""The reconnect loop and session supervision both OCPP adapters run on (`controller.csms_link`),
with no protocol: a fake owner whose clock moves only when the loop sleeps."""

import asyncio
import random

import pytest

from controller.csms_link import FIRST_DELAY_S, STABLE_AFTER_S, ReconnectLoop, supervise


class _Owner:
    def __init__(self) -> None:
        self.now_s = 0.0
        self.sleeps: list[float] = []
        self.settings = self
        self.max_backoff_s = 16.0
        self.clock = self
        self.timers = self

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


class _Loop(ReconnectLoop):
    """Each connection lasts the next of `lasts_s` (then fails); stops after them all."""

    def __init__(self, owner: _Owner, lasts_s: list[float]) -> None:
        super().__init__(owner, random.Random(1))
        self.owner, self.lasts_s, self.log = owner, lasts_s, []

    async def _connect_once(self) -> None:
        if not self.lasts_s:
            raise asyncio.CancelledError
        self.connects += 1
        self.owner.now_s += self.lasts_s.pop(0)
        raise ConnectionError("dropped")

    def _failed(self, exc: Exception) -> None:
        self.log.append(("failed", type(exc).__name__))

    def _connecting(self) -> None:
        self.log.append(("connecting", None))

    def _offline(self) -> None:
        self.log.append(("offline", None))


async def test_waits_double_and_a_connection_that_lasted_starts_them_again():
    owner = _Owner()
    loop = _Loop(owner, [0, 0, 0, STABLE_AFTER_S + 1, 0])
    with pytest.raises(asyncio.CancelledError):
        await loop.run()
    nominal = [FIRST_DELAY_S, 2, 4, FIRST_DELAY_S, 2]
    for wait, full in zip(owner.sleeps, nominal, strict=True):
        assert full / 2 <= wait <= full, owner.sleeps
    assert loop.connects == 5
    assert loop.log[:3] == [("connecting", None), ("failed", "ConnectionError"), ("offline", None)]


async def test_the_first_task_to_end_ends_the_others_and_its_error_is_raised():
    order: list[str] = []

    async def fails():
        await asyncio.sleep(0)
        raise ValueError("reader broke")

    async def works():
        try:
            await asyncio.sleep(60)
        finally:
            order.append("cancelled")

    tasks = [asyncio.create_task(fails()), asyncio.create_task(works())]
    with pytest.raises(ValueError, match="reader broke"):
        await supervise(tasks, lambda: order.append("on_end"))
    assert order == ["on_end", "cancelled"]  # the session is dropped before the rest stops
    assert tasks[1].cancelled()


async def test_a_task_that_ends_cleanly_ends_the_session_without_error():
    async def ends():
        return None

    never = asyncio.create_task(asyncio.Event().wait())
    first = asyncio.create_task(ends())
    done = await supervise([first, never], lambda: None)
    assert done == {first}
    assert never.cancelled()
