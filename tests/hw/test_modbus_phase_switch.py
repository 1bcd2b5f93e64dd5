"""A Modbus board's phase relay (issue 14): declared per preset or by a generic board's keys,
driven through `hw.base.PhaseSwitch` by the same switching sequence as a Pi's relay, against
pymodbus emulators of the board and of a relay unit on the same bus (TCP on 127.0.0.1)."""

import asyncio
import contextlib
from dataclasses import replace

import pytest

from controller.config import load_settings
from controller.drivers import build_station
from hw.base import PhaseSwitching
from hw.clock import FakeClock
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.phase_relay import PhaseRelayEmulator
from hw.emulators.server import EmulatorServer
from hw.modbus_bus import ModbusBus
from hw.modbus_evse import PHASE_CAPABLE_PRESETS, PRESETS, ModbusEvseDriver, RegisterMap
from hw.modbus_phase import PhaseRelay
from hw.phase_switch import PhaseSwitchConfig

CONFIG = PhaseSwitchConfig(wait_s=10, min_interval_s=60, confirm_s=60)


def _generic(relay: PhaseRelay) -> RegisterMap:
    return RegisterMap(1000, 1002, dict(PRESETS["evse_wb"].state_map), phase_relay=relay)


@contextlib.asynccontextmanager
async def _rig(relay: PhaseRelay, coil: bool = False, relay_address: int = 1):
    board = EvseWbEmulator(centiamps=False)
    unit = PhaseRelayEmulator(board, coil=coil, address=relay_address)
    server = EmulatorServer([board, unit])
    port = await server.start_tcp()
    clock = FakeClock()
    bus = ModbusBus(host="127.0.0.1", tcp_port=port, gap_s=0.0)
    drv = ModbusEvseDriver(
        bus, _generic(relay), max_current_a=32, phase_switch_config=CONFIG, clock=clock
    )
    try:
        yield board, unit, drv, clock
    finally:
        await drv.close()
        await server.stop()


def _never_under_load(board, unit):
    for w in unit.writes:
        assert w.vehicle_state != 3, "the relay moved while the car was charging"
        before = [x for x in board.writes if x.address == 1000 and x.at <= w.at]
        assert before and before[-1].values == [0], "the relay moved with current offered"


@pytest.mark.parametrize("coil", [False, True])
def test_switching_to_one_phase_pauses_waits_and_resumes(coil):
    async def go():
        relay = PhaseRelay(1, coil=coil, device_id=3)
        async with _rig(relay, coil=coil) as (board, unit, drv, clock):
            assert drv.capabilities.can_switch_phases and drv.phases_in_use == 3
            await drv.start()
            await drv.poll()  # the relay is put where the sequence believes it is
            assert [w.phases for w in unit.writes] == [3]
            await drv.set_limit(16)
            s = await drv.poll()
            assert s.cp_state == "C" and board.current_reg == 16
            drv.request_phases(1)
            await drv.poll()  # pause first
            assert board.current_reg == 0 and unit.phases == 3
            await drv.set_limit(16)  # the loop's limit does not lift the pause
            assert board.current_reg == 0
            await drv.poll()  # the car left C: the relay moves
            assert unit.phases == 1 and board.current_reg == 0
            clock.advance(9.9)
            await drv.poll()
            assert board.current_reg == 0  # wait_s has not passed
            clock.advance(0.1)
            await drv.poll()
            assert board.current_reg == 16  # offer back
            await drv.poll()
            report = drv.phase_switch_report()
            assert drv.phases_in_use == 1 and report is not None
            assert report.last_result == "charging on 1 phase(s)"
            _never_under_load(board, unit)

    asyncio.run(asyncio.wait_for(go(), 30))


def test_a_relay_that_cannot_be_written_holds_the_pause():
    async def go():
        # Declared at the wrong address: the relay unit refuses every write.
        relay = PhaseRelay(2, device_id=3)
        async with _rig(relay) as (board, unit, drv, clock):
            await drv.start()
            await drv.set_limit(16)
            for _ in range(3):
                clock.advance(30)
                await drv.poll()
            assert unit.writes == [] and board.current_reg == 0  # never offered
            assert drv.phases_in_use == 3

    asyncio.run(asyncio.wait_for(go(), 30))


def test_no_preset_has_a_relay_and_a_generic_board_may_declare_one(tmp_path):
    assert PHASE_CAPABLE_PRESETS == ()
    assert all(rm.phase_relay is None for rm in PRESETS.values())
    p = tmp_path / "c.toml"
    p.write_text(
        f'[state]\ndir = "{tmp_path}"\n[[connector]]\nid = 1\ndriver = "modbus"\n'
        '[connector.modbus]\nboard = "generic"\nhost = "127.0.0.1"\ncurrent_register = 1000\n'
        "state_register = 1002\nphase_relay_register = 7\nphase_relay_coil = true\n"
        "phase_relay_device_id = 3\n[connector.phase_switch]\n"
    )
    settings = load_settings(p)

    async def build():  # pymodbus clients want a running loop
        wrapped = build_station(settings, FakeClock())[1].driver
        # The service's stand-in driver passes switching on (the loop asks it, not the board).
        assert isinstance(wrapped, PhaseSwitching) and wrapped.capabilities.can_switch_phases
        assert wrapped.phases_in_use == 3 and wrapped.phase_switch_report() is not None
        driver = wrapped.hardware
        assert driver.regmap.phase_relay == PhaseRelay(7, coil=True, device_id=3)
        plain = replace(driver.regmap, phase_relay=None)
        with pytest.raises(ValueError, match="no phase relay"):
            ModbusEvseDriver(driver.bus, plain, phase_switch_config=CONFIG)
        driver.bus.close()

    asyncio.run(build())
