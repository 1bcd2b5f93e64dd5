"""Register writes overtake polls waiting for the Modbus line, on a real pymodbus server."""

import asyncio

from hw.emulators.evse_wb import EvseWbEmulator
from hw.modbus_bus import ModbusBus
from hw.priority_lock import PriorityLock
from tests.hw.test_modbus import tcp


def test_waiters_are_served_by_priority_then_in_order_and_cancelled_ones_skipped():
    async def go():
        lock, order = PriorityLock(), []

        async def take(name, priority):
            async with lock.hold(priority):
                order.append(name)
                await asyncio.sleep(0)

        await lock.acquire(1)
        tasks = [asyncio.create_task(take(n, p)) for n, p in [("r1", 1), ("r2", 1), ("w", 0)]]
        gone = asyncio.create_task(take("gone", 0))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        lock.release()
        await asyncio.gather(*tasks)
        return order, lock.locked

    assert asyncio.run(go()) == (["w", "r1", "r2"], False)


def test_a_limit_write_goes_out_before_queued_reads():
    async def go():
        evse = EvseWbEmulator()
        async with tcp(evse) as port:
            bus = ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.05)
            reads = [asyncio.create_task(bus.read_holding(1000, 3, 1)) for _ in range(3)]
            await asyncio.sleep(0.01)  # the first read is on the wire, two wait
            await bus.write_registers(1000, [1600], 1)
            await asyncio.gather(*reads)
            bus.close()
        return evse

    evse = asyncio.run(asyncio.wait_for(go(), 30))
    assert len(evse.requests) == 4
    written_at = evse.writes[0].at
    # On the wire: one read, the write, then the two reads that were waiting.
    # (the emulator notes the write's request a moment before the write itself)
    assert sum(1 for t in evse.requests if t <= written_at) == 2
