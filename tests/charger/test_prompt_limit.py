"""A new limit does not wait for a poll in flight: a Modbus board's poll can wait for its shared
line behind meter reads and their gaps (about 270 ms at the 99th percentile before), while the
limit's register write has priority on that line once it is asked for."""

import asyncio
from datetime import UTC, datetime

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.base import Capabilities, CpState, EvseStatus
from hw.clock import FakeClock

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class SlowLineBoard:
    """A board whose poll waits until the test lets its line go; writes log their order."""

    capabilities = Capabilities(min_current_a=6.0, max_current_a=32.0, phases=3)

    def __init__(self) -> None:
        self.line_free = asyncio.Event()
        self.line_free.set()
        self.polling = asyncio.Event()
        self.log: list[str] = []
        self.offered_a = 0.0

    async def start(self) -> None:
        pass

    async def poll(self) -> EvseStatus:
        self.polling.set()
        await self.line_free.wait()
        self.log.append("poll done")
        return EvseStatus(cp_state=CpState.C, offered_a=self.offered_a, contactor_closed=True)

    async def set_limit(self, limit_a: float) -> None:
        self.log.append(f"write {limit_a:g}")
        self.offered_a = limit_a

    async def safe_state(self) -> None:
        self.log.append("safe")

    async def close(self) -> None:
        pass

    def poll_interval_s(self) -> float:
        return 1.0


def _cap(limit_a: float, profile_id: int) -> dict:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
        },
    }


def _rig():
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=1))
    board = SlowLineBoard()
    loop = ControlLoop(
        [ConnectorUnit(1, board, None, 32.0)],
        store,
        clock,
        permit=lambda c: True,
        session_start=lambda c: T0,
        on_change=lambda c: None,
    )
    return clock, store, board, loop


def test_a_limit_set_during_a_poll_is_written_before_the_poll_returns():
    clock, store, board, loop = _rig()

    async def go():
        loop._loop = asyncio.get_running_loop()
        await loop.tick()  # the first evaluation: 32 A
        assert "write 32" in board.log
        board.log.clear()
        board.line_free.clear()
        board.polling.clear()
        clock.advance(1.0)
        tick = asyncio.create_task(loop.tick())
        await asyncio.wait_for(board.polling.wait(), 5)
        store.set_charging_profile(0, _cap(10, 1), clock.now())
        for _ in range(50):
            if board.log:
                break
            await asyncio.sleep(0.01)
        written_while_polling = list(board.log)
        board.line_free.set()
        await asyncio.wait_for(tick, 5)
        return written_while_polling

    written_while_polling = asyncio.run(go())
    assert written_while_polling == ["write 10"]
    assert board.log == ["write 10", "poll done"]  # the poll did not write it again


def test_shutdown_during_a_poll_leaves_nothing_offering_after_the_safe_state():
    clock, store, board, loop = _rig()

    async def go():
        loop._loop = asyncio.get_running_loop()
        await loop.tick()
        board.log.clear()
        board.line_free.clear()
        board.polling.clear()
        clock.advance(1.0)
        tick = asyncio.create_task(loop.tick())
        await asyncio.wait_for(board.polling.wait(), 5)
        store.set_charging_profile(0, _cap(16, 1), clock.now())
        tick.cancel()
        await loop.shutdown()
        board.line_free.set()
        await asyncio.sleep(0.05)

    asyncio.run(go())
    assert board.log[-1] == "safe"
