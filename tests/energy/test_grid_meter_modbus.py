"""The guard reading a real Modbus grid meter (the SDM630 emulator over TCP on loopback)."""

import asyncio
import contextlib

import pytest

from controller.charger.binding import LimitSource
from controller.config import make_settings
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer
from hw.grid_meter import ModbusGridMeter
from hw.modbus_bus import ModbusBus
from tests.energy.house_rig import house_rig, seconds_over


@contextlib.asynccontextmanager
async def tcp(*devices):
    server = EmulatorServer(list(devices))
    port = await server.start_tcp()
    try:
        yield port
    finally:
        await server.stop()


def test_export_is_read_as_negative_current():
    async def go():
        emu = Sdm630Emulator(current_a=(5.0, -7.5, 0.0))
        async with tcp(emu) as port:
            meter = ModbusGridMeter(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), device_id=2
            )
            sample = await meter.read_grid()
            await meter.close()
            return sample

    s = asyncio.run(asyncio.wait_for(go(), 30))
    assert s.current_a == pytest.approx((5.0, -7.5, 0.0), abs=1e-4)


def test_load_step_through_the_modbus_meter_and_the_meter_going_silent():
    emu = Sdm630Emulator()
    server = EmulatorServer([emu])
    holder = {}

    def meter(_grid):
        holder["meter"] = ModbusGridMeter(
            ModbusBus(host="127.0.0.1", tcp_port=holder["port"], gap_s=0.0, timeout_s=0.2),
            device_id=2,
        )
        return holder["meter"]

    async def go():
        holder["port"] = await server.start_tcp()
        rig = house_rig(meter=meter)

        async def feed():
            emu.current_a = rig.grid.currents_a()

        rig.before_read = feed
        try:
            await rig.start()
            await rig.run(20)
            assert rig.unit.status.offered_a == 16.0
            rig.trace.clear()
            rig.house.set_load((1.0, 21.0, 1.0))
            await rig.run(8)
            paused = rig.unit.target_a, rig.unit.limit_source, rig.unit.fuse_limit.text()
            trace = list(rig.trace)
            rig.house.set_load((1.0, 1.0, 1.0))
            await rig.run(45)
            recovered = rig.unit.status.offered_a
            await server.stop()
            await rig.run(12)
            return paused, trace, recovered, rig.unit.status.offered_a, rig.fuse.failures
        finally:
            await server.stop()

    paused, trace, recovered, silent_offer, failures = asyncio.run(asyncio.wait_for(go(), 60))
    assert paused == (0.0, LimitSource.MAIN_FUSE, "main fuse: L2 at 21.0 A of 25 A")
    assert seconds_over(trace, 1, 25.0) <= 2.0
    assert recovered == 16.0
    assert failures >= 10
    assert silent_offer == 6.0


def test_the_configured_grid_meter_is_read_through_the_driver_table(tmp_path):
    from controller.drivers import build_station
    from controller.grid import build_main_fuse
    from hw.clock import FakeClock

    async def go():
        emu = Sdm630Emulator(device_id=3, current_a=(4.0, 19.5, 2.0))
        async with tcp(emu) as port:
            settings = make_settings(
                state={"dir": tmp_path},
                station={
                    "main_fuse_a": 25,
                    "grid_meter": {
                        "type": "sdm630",
                        "host": "127.0.0.1",
                        "tcp_port": port,
                        "device_id": 3,
                    },
                },
            )
            clock = FakeClock()
            fuse = build_main_fuse(settings, build_station(settings, clock), clock)
            ok = await fuse.read_once()
            await fuse.meter.close()
            return ok, fuse.reading

    ok, reading = asyncio.run(asyncio.wait_for(go(), 30))
    assert ok
    assert reading.current_a == pytest.approx((4.0, 19.5, 2.0), abs=1e-4)


def test_check_hw_reads_the_grid_meter_and_explains_a_silent_one(tmp_path):
    from controller.check_hw import check
    from hw.emulators.server import free_port

    def settings(port, device_id):
        return make_settings(
            state={"dir": tmp_path},
            station={
                "main_fuse_a": 25,
                "grid_meter": {
                    "type": "sdm630",
                    "host": "127.0.0.1",
                    "tcp_port": port,
                    "device_id": device_id,
                },
            },
        )

    async def go():
        emu = Sdm630Emulator(device_id=3, current_a=(4.0, -6.5, 2.0))
        async with tcp(emu) as port:
            good = await check(settings(port, 3))
        bad = await check(settings(free_port(), 3))
        return good, bad

    good, bad = asyncio.run(asyncio.wait_for(go(), 60))
    row = good[-1]
    assert row.ok and row.name.startswith("grid meter sdm630")
    assert "L1 4.0 A, L2 -6.5 A, L3 2.0 A" in row.detail and "main fuse 25 A" in row.detail
    assert not bad[-1].ok and bad[-1].fix
