"""What a Modbus board and meter cost on the wire: requests counted by the emulator itself, on a
real 9600-baud RTU line over a socat PTY pair, with the real control loop on the real clock."""

import asyncio
import shutil
import time
from datetime import UTC, datetime

import pytest

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.base import Polled
from hw.clock import SystemClock
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer
from hw.meter_modbus import READ_PLAN, ModbusMeter
from hw.modbus_budget import METER_POLL_INTERVAL_S, Device, Function, Request, line_budget
from hw.modbus_bus import ModbusBus
from hw.modbus_evse import PRESETS, ModbusEvseDriver, poll_requests
from tests.hw.test_modbus import PtyPair, tcp

needs_socat = pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")


def cap(limit_a, profile_id=1):
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


def test_an_evse_wb_poll_is_one_request_and_a_heidelberg_poll_two():
    from hw.emulators.heidelberg import HeidelbergEmulator

    async def go():
        evse = EvseWbEmulator()
        async with tcp(evse) as port:
            drv = ModbusEvseDriver(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), PRESETS["evse_wb"]
            )
            await drv.start()
            await drv.set_limit(16)
            before = len(evse.requests)
            status = await drv.poll()
            wb = len(evse.requests) - before
            await drv.close()
        emu = HeidelbergEmulator()
        async with tcp(emu) as port:
            bus = ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0)
            hd = ModbusEvseDriver(bus, PRESETS["heidelberg"], max_current_a=16)
            await hd.start()
            before = bus.requests
            await hd.poll()
            heidelberg = bus.requests - before
            await hd.close()
        return wb, status, heidelberg

    wb, status, heidelberg = asyncio.run(asyncio.wait_for(go(), 30))
    assert wb == 1 == len(poll_requests(PRESETS["evse_wb"]))
    assert status.offered_a == 16 and status.contactor_closed
    assert heidelberg == 2 == len(poll_requests(PRESETS["heidelberg"]))


@pytest.mark.parametrize("model", sorted(READ_PLAN))
def test_a_meter_read_makes_the_requests_the_budget_counts(model):
    class Anything:
        """Answers every register with 0, counting the requests."""

        def __init__(self):
            self.device_id, self.requests = 1, 0

        def sim_device(self):
            from pymodbus.simulator import DataType, SimData, SimDevice

            regs = [SimData(0, count=0x6000, values=0, datatype=DataType.REGISTERS)]
            return SimDevice(self.device_id, regs, action=self._count)

        async def _count(self, *args):
            self.requests += 1

    async def go():
        dev = Anything()
        async with tcp(dev) as port:
            bus = ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0)
            meter = ModbusMeter(bus, model)
            await meter.read()
            await meter.close()
        return bus.requests

    assert asyncio.run(asyncio.wait_for(go(), 30)) == len(READ_PLAN[model])


@needs_socat
def test_board_and_meter_on_a_9600_baud_line_poll_once_a_second_and_writes_go_out_at_once(
    tmp_path,
):
    pty = PtyPair(tmp_path)
    pty.start()

    async def go():
        evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2)
        server = EmulatorServer([evse, sdm])
        await server.start_serial(str(pty.a), baudrate=9600)
        bus = ModbusBus(port=str(pty.b), baudrate=9600, timeout_s=0.5, gap_s=0.1)
        board = ModbusEvseDriver(bus, PRESETS["evse_wb"], device_id=1)
        meter = ModbusMeter(bus, "sdm630", device_id=2)
        assert isinstance(board, Polled) and board.poll_interval_s() == 1.0
        store = ProfileStore(SmartChargingConfig(number_of_connectors=1))
        store.set_charging_profile(0, cap(16), datetime.now(UTC))
        loop = ControlLoop(
            [ConnectorUnit(1, board, meter, 32.0)],
            store,
            SystemClock(),
            permit=lambda c: True,
            session_start=lambda c: None,
            on_change=lambda c: None,
        )
        task = asyncio.create_task(loop.run())
        try:
            await asyncio.wait_for(loop.started.wait(), 10)
            await asyncio.sleep(1.5)  # the meter's first read, the board charging
            assert evse.vehicle_state == 3
            t0, board0, bus0 = time.monotonic(), len(evse.requests), bus.requests
            await asyncio.sleep(6.0)
            elapsed = time.monotonic() - t0
            board_rate = (len(evse.requests) - board0) / elapsed
            bus_rate = (bus.requests - bus0) / elapsed
            latencies = []
            for i, limit_a in enumerate((10, 16, 12, 16, 8, 16)):
                await asyncio.sleep(0.37)  # off the poll grid
                writes = len(evse.writes)
                set_at = time.monotonic()
                store.set_charging_profile(0, cap(limit_a, 2 + i), datetime.now(UTC))
                while len(evse.writes) == writes:
                    await asyncio.sleep(0.005)
                latencies.append(evse.writes[writes].at - set_at)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await server.stop()
        return board_rate, bus_rate, latencies, evse

    try:
        board_rate, bus_rate, latencies, evse = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        pty.stop()
    # 10 Hz polling with two single-register reads was ~8 requests/s to the board.
    assert 0.6 <= board_rate <= 1.4, board_rate
    # One board read and two meter reads a second.
    assert bus_rate <= 3.6, bus_rate
    # A limit change is written at once, not at the next 1 s poll (generous bound).
    assert max(latencies) < 0.6, latencies
    values = [w.values[0] for w in evse.writes if w.address == 1000]
    # The six limits in order, each written once; then the pauses of the loop's shutdown.
    assert [v for v in values if v][-6:] == [1000, 1600, 1200, 1600, 800, 1600]
    assert values[-1] == 0
    print(f"board {board_rate:.2f} req/s, line {bus_rate:.2f} req/s, write {latencies}")


def test_one_board_and_one_meter_at_9600_baud_use_at_most_20_percent_of_the_line():
    board = Device("board", poll_requests(PRESETS["evse_wb"]), 1.0, 0.1)
    reads = tuple(Request(Function.READ, n) for n in READ_PLAN["sdm630"])
    meter = Device("meter", reads, METER_POLL_INTERVAL_S, 0.05)
    budget = line_budget("/dev/ttyUSB0", 9600, "N", [board, meter])
    assert budget.requests_per_s == 3
    assert budget.bus_time <= 0.20
    assert not budget.saturated
    # The old 10 Hz poll of state and current in two requests saturated the line by itself.
    old = Device("board", (Request(Function.READ, 1),) * 2, 0.1, 0.1)
    assert line_budget("/dev/ttyUSB0", 9600, "N", [old, meter]).saturated
