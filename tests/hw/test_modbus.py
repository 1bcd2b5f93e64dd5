"""Modbus EVSE boards and meters against emulators on real pymodbus servers: over TCP on
127.0.0.1, and over RTU on a real PTY pair from socat, asserting the writes seen on the wire."""

import asyncio
import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hw.base import CpState, FaultKind
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer
from hw.meter_modbus import ModbusMeter
from hw.modbus_bus import ModbusBus
from hw.modbus_evse import PRESETS, ModbusEvseDriver

needs_socat = pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")


@contextlib.asynccontextmanager
async def tcp(*devices):
    server = EmulatorServer(list(devices))
    port = await server.start_tcp()
    try:
        yield port
    finally:
        await server.stop()


class PtyPair:
    def __init__(self, tmp: Path):
        self.a, self.b = tmp / "ttyV0", tmp / "ttyV1"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not (self.a.exists() and self.b.exists()):
            assert time.monotonic() < deadline, "socat did not create the PTYs"
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        deadline = time.monotonic() + 5
        while self.a.exists() or self.b.exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)


def writes_to(emu, address):
    return [w.values for w in emu.writes if w.address == address]


def test_seed_pause_and_resume_over_tcp_in_centiamps():
    async def go():
        emu = EvseWbEmulator(centiamps=True)
        async with tcp(emu) as port:
            bus = ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0)
            drv = ModbusEvseDriver(bus, PRESETS["evse_wb"], max_current_a=32)
            await drv.start()
            assert drv.regmap.current_scale == 100  # learned from 1005 and 2005 bit 7
            await drv.set_limit(32)
            s1 = await drv.poll()
            await drv.set_limit(0)  # profile 1001
            s2 = await drv.poll()
            await drv.set_limit(16)  # profile 1002
            s3 = await drv.poll()
            await drv.close()
            return emu, s1, s2, s3

    emu, s1, s2, s3 = asyncio.run(asyncio.wait_for(go(), 30))
    assert writes_to(emu, 1000) == [[0], [3200], [0], [1600], [0]]
    assert (s1.cp_state, s1.offered_a, s1.contactor_closed) == (CpState.C, 32.0, True)
    assert (s2.cp_state, s2.offered_a) == (CpState.B, 0.0)
    assert (s3.cp_state, s3.offered_a) == (CpState.C, 16.0)


def test_one_amp_steps_on_old_firmware():
    async def go():
        emu = EvseWbEmulator(firmware=16, centiamps=False)
        async with tcp(emu) as port:
            drv = ModbusEvseDriver(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), PRESETS["evse_wb"]
            )
            await drv.start()
            await drv.set_limit(16.7)
            await drv.set_limit(5.9)
            await drv.close()
            return emu, drv

    emu, drv = asyncio.run(asyncio.wait_for(go(), 30))
    assert drv.regmap.current_scale == 1
    assert writes_to(emu, 1000) == [[0], [16], [0], [0]]  # the last: close() pauses again


def test_board_reboot_is_noticed_and_the_current_written_again():
    async def go():
        emu = EvseWbEmulator()
        async with tcp(emu) as port:
            drv = ModbusEvseDriver(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), PRESETS["evse_wb"]
            )
            await drv.start()
            await drv.set_limit(16)
            emu.current_reg = 600  # as if it rebooted into its power-up current
            await drv.poll()
            await drv.close()
            return emu

    emu = asyncio.run(asyncio.wait_for(go(), 30))
    assert writes_to(emu, 1000) == [[0], [1600], [1600], [0]]


def test_board_failure_state_is_a_fault():
    async def go():
        emu = EvseWbEmulator()
        async with tcp(emu) as port:
            drv = ModbusEvseDriver(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), PRESETS["evse_wb"]
            )
            await drv.start()
            emu.failure = True
            bad = await drv.poll()
            emu.failure = False
            good = await drv.poll()
            await drv.close()
            return bad, good

    bad, good = asyncio.run(asyncio.wait_for(go(), 30))
    assert bad.fault and "failure" in bad.fault.text and bad.fault.kind is FaultKind.BOARD
    assert good.fault is None


def test_sdm630_reading():
    async def go():
        emu = Sdm630Emulator(current_a=(16.0, 15.5, 16.2), import_kwh=1234.5)
        async with tcp(emu) as port:
            meter = ModbusMeter(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0), "sdm630", device_id=2
            )
            sample = await meter.read()
            await meter.close()
            return sample

    s = asyncio.run(asyncio.wait_for(go(), 30))
    assert s.energy_wh == pytest.approx(1234500, rel=1e-6)
    assert s.current_a == pytest.approx((16.0, 15.5, 16.2), abs=1e-4)
    assert s.voltage_v == pytest.approx((230.0, 231.0, 229.0), abs=1e-4)
    assert s.power_w == pytest.approx(230 * 16 + 231 * 15.5 + 229 * 16.2, rel=1e-5)


@needs_socat
def test_rtu_over_a_pty_board_and_meter_on_one_bus(tmp_path):
    pty = PtyPair(tmp_path)
    pty.start()

    async def go():
        evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2, current_a=(16, 16, 16))
        server = EmulatorServer([evse, sdm])
        await server.start_serial(str(pty.a), baudrate=9600)
        try:
            bus = ModbusBus(port=str(pty.b), baudrate=9600, timeout_s=0.5, gap_s=0.05)
            drv = ModbusEvseDriver(bus, PRESETS["evse_din"], device_id=1)
            meter = ModbusMeter(bus, "sdm630", device_id=2)
            await drv.start()
            await drv.set_limit(16)
            status = await drv.poll()
            sample = await meter.read()
            await drv.set_limit(0)
            paused = await drv.poll()
            await meter.close()
            await drv.close()
            return evse, status, sample, paused
        finally:
            await server.stop()

    try:
        evse, status, sample, paused = asyncio.run(asyncio.wait_for(go(), 30))
    finally:
        pty.stop()
    # The frames that crossed the PTY: pause at start, 16 A, pause, and the pause of close().
    assert writes_to(evse, 1000) == [[0], [1600], [0], [0]]
    assert status.cp_state is CpState.C and status.offered_a == 16
    assert sample.current_a == (16, 16, 16)
    assert paused.cp_state is CpState.B


@needs_socat
def test_serial_port_vanishing_faults_then_recovers(tmp_path):
    pty = PtyPair(tmp_path)
    pty.start()

    async def go():
        evse = EvseWbEmulator()
        server = EmulatorServer([evse])
        await server.start_serial(str(pty.a))
        bus = ModbusBus(port=str(pty.b), timeout_s=0.3, retries=0, gap_s=0.0)
        drv = ModbusEvseDriver(bus, PRESETS["evse_wb"], fault_after=2)
        await drv.start()
        await drv.set_limit(16)
        assert (await drv.poll()).fault is None
        # The USB adapter is pulled: the PTYs disappear.
        await server.stop()
        pty.stop()
        faults = [(await drv.poll()).fault for _ in range(3)]
        # ... and plugged back in.
        pty.start()
        server = EmulatorServer([evse])
        await server.start_serial(str(pty.a))
        recovered = None
        for _ in range(40):
            status = await drv.poll()
            if status.fault is None:
                recovered = status
                break
            await asyncio.sleep(0.1)
        await drv.close()
        await server.stop()
        return faults, recovered

    try:
        faults, recovered = asyncio.run(asyncio.wait_for(go(), 45))
    finally:
        pty.stop()
    assert faults[0] is None and faults[1] and "not answering" in faults[1].text
    assert recovered is not None and recovered.offered_a == 16


@needs_socat
def test_crc_garbage_is_a_driver_error_not_a_crash(tmp_path):
    pty = PtyPair(tmp_path)
    pty.start()

    async def go():
        import os

        fd = os.open(str(pty.a), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        bus = ModbusBus(port=str(pty.b), timeout_s=0.3, retries=0, gap_s=0.0)
        drv = ModbusEvseDriver(bus, PRESETS["evse_wb"], fault_after=2)
        statuses = []

        async def junk():
            while True:
                await asyncio.sleep(0.02)
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(fd, 256)
                    os.write(fd, b"\x01\x03\x02\xff\xff\x00\x00")  # wrong CRC

        t = asyncio.create_task(junk())
        for _ in range(3):
            statuses.append(await drv.poll())
        t.cancel()
        await drv.close()
        os.close(fd)
        return statuses

    try:
        statuses = asyncio.run(asyncio.wait_for(go(), 30))
    finally:
        pty.stop()
    last = statuses[-1].fault
    assert last and "not answering" in last.text and last.kind is FaultKind.LINK
    assert statuses[-1].offered_a == 0


def test_heidelberg_arms_its_watchdog_and_pauses_with_261():
    from hw.emulators.heidelberg import HeidelbergEmulator

    async def go():
        emu = HeidelbergEmulator()
        async with tcp(emu) as port:
            drv = ModbusEvseDriver(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0),
                PRESETS["heidelberg"],
                max_current_a=16,
            )
            await drv.start()
            await drv.set_limit(16)
            charging = await drv.poll()
            await drv.set_limit(0)
            paused = await drv.poll()
            await drv.close()
            return emu, charging, paused

    emu, charging, paused = asyncio.run(asyncio.wait_for(go(), 30))
    writes = [(w.address, w.values) for w in emu.writes]
    # standby off, failsafe current 0 A, watchdog 15 s; then pause, 16 A (0.1 A steps), pause
    assert writes[:3] == [(258, [4]), (262, [0]), (257, [15000])]
    assert [v for a, v in writes if a == 261] == [[0], [160], [0], [0]]
    assert (charging.cp_state, charging.offered_a) == (CpState.C, 16.0)
    assert (paused.cp_state, paused.offered_a) == (CpState.B, 0.0)


class _FixedRegisters:
    """A meter whose registers hold fixed values: {address: [words]} for holding or input."""

    def __init__(self, device_id, holding=None, inputs=None):
        self.device_id, self.holding, self.inputs = device_id, holding or {}, inputs or {}

    def sim_device(self):
        from pymodbus.simulator import DataType, SimData, SimDevice

        def block(regs, fallback):
            if not regs:
                return [SimData(fallback, count=2, values=0, datatype=DataType.REGISTERS)]
            return [
                SimData(a, values=w, datatype=DataType.REGISTERS) for a, w in sorted(regs.items())
            ]

        coils = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        return SimDevice(
            self.device_id, (coils, coils, block(self.holding, 0xFC00), block(self.inputs, 0x200))
        )


def _meter_read(device, model):
    async def go():
        async with tcp(device) as port:
            meter = ModbusMeter(
                ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0),
                model,
                device_id=device.device_id,
            )
            sample = await meter.read()
            await meter.close()
            return sample

    return asyncio.run(asyncio.wait_for(go(), 30))


def _u32(v):
    return [v >> 16, v & 0xFFFF]


def test_abb_b23_scaled_integers():
    energy = 123456  # 0.01 kWh units -> 1234.56 kWh
    dev = _FixedRegisters(
        3,
        holding={
            0x5000: [0, 0, energy >> 16, energy & 0xFFFF],
            # One block as on the meter: L-N voltages, L-L voltages, currents, N current, power.
            0x5B00: _u32(2301)
            + _u32(2310)
            + _u32(2295)
            + _u32(3990)
            + _u32(3995)
            + _u32(3985)
            + _u32(1600)
            + _u32(1550)
            + _u32(1620)
            + _u32(0)
            + _u32(1104000),
        },
    )
    s = _meter_read(dev, "abb_b23")
    assert s.energy_wh == pytest.approx(1_234_560)
    assert s.voltage_v == pytest.approx((230.1, 231.0, 229.5))
    assert s.current_a == pytest.approx((16.0, 15.5, 16.2))
    assert s.power_w == pytest.approx(11040.0)


def test_sdm120_single_phase():
    from hw.emulators.sdm630 import float_regs

    regs = {
        0x00: float_regs(229.5),
        0x06: float_regs(15.9),
        0x0C: float_regs(3649.0),
        0x48: float_regs(42.25),
    }
    inputs = {}
    for a in range(0, 14, 2):
        inputs[a] = regs.get(a, [0, 0])
    inputs[0x48] = regs[0x48]
    s = _meter_read(_FixedRegisters(4, inputs=inputs), "sdm120")
    assert s.voltage_v[0] == pytest.approx(229.5) and s.voltage_v[1:] == (0.0, 0.0)
    assert s.current_a[0] == pytest.approx(15.9, abs=1e-4)
    assert s.power_w == pytest.approx(3649.0)
    assert s.energy_wh == pytest.approx(42250.0)
