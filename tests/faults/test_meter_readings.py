"""meterStart and meterStop are real register values: the meter read late or not at all, a meter
answering NaN, and a kill -9 with the simulated meter's register kept across the restart."""

import asyncio
import math
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocpp_helpers import running
from scripted_csms import ScriptedCsms
from service_proc import spawn, write_config

from controller.config import make_settings
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer, free_port
from hw.errors import DriverFault
from hw.meter_modbus import ModbusMeter
from hw.modbus_bus import ModbusBus

CP = "CP-E1"
REGISTER_WH = 1_234_500.0  # the SDM630 emulator's 1234.5 kWh


def _modbus_settings(url, tmp_path, board_port, meter_port, **ocpp):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP, "free_vend_id_tag": "FREE", **ocpp},
        state={"dir": tmp_path / "state"},
        connector=[
            {
                "id": 1,
                "driver": "modbus",
                "max_current_a": 32,
                "modbus": {
                    "board": "openwb_satellit",
                    "host": "127.0.0.1",
                    "tcp_port": board_port,
                    "device_id": 1,
                },
                "meter": {
                    "type": "sdm630",
                    "host": "127.0.0.1",
                    "tcp_port": meter_port,
                    "device_id": 2,
                },
            }
        ],
    )


async def _servers(evse, sdm, meter_late_s):
    board = EmulatorServer([evse])
    board_port = await board.start_tcp()
    meter = EmulatorServer([sdm])
    meter_port = free_port()

    async def meter_up():
        await asyncio.sleep(meter_late_s)
        await meter.start_tcp(meter_port)

    return board, board_port, meter, meter_port, meter_up


def test_meter_start_waits_for_a_meter_that_answers_late(tmp_path):
    """Old code: the meter's first answer came after the plug-in, and meterStart was 0."""

    async def go():
        evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2)
        board, board_port, meter, meter_port, meter_up = await _servers(evse, sdm, 2.0)
        csms = ScriptedCsms()
        url = await csms.start()
        late = asyncio.create_task(meter_up())
        try:
            async with running(_modbus_settings(url, tmp_path, board_port, meter_port)):
                start, _ = await csms.wait_for("StartTransaction", timeout_s=30)
                return start
        finally:
            await late
            await csms.close()
            await meter.stop()
            await board.stop()

    start = asyncio.run(asyncio.wait_for(go(), 90))
    assert start["meterStart"] == round(REGISTER_WH)


def test_meter_start_falls_back_to_the_persisted_register_never_to_zero(tmp_path):
    """A first run reports the register; in a second run the meter never answers: meterStart is
    the persisted register. In a third run on a fresh state nothing was ever read: no
    StartTransaction at all, and the reason is in the log, StatusNotification and `status`."""

    async def go():
        evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2)
        board, board_port, meter, meter_port, meter_up = await _servers(evse, sdm, 0.0)
        csms = ScriptedCsms()
        url = await csms.start()
        await meter_up()
        try:
            settings = _modbus_settings(url, tmp_path, board_port, meter_port)
            async with running(settings):
                first, answer = await csms.wait_for("StartTransaction", timeout_s=30)
                r = await csms.call(
                    "RemoteStopTransaction", {"transactionId": answer["transactionId"]}
                )
                assert r[0] == 3 and r[2]["status"] == "Accepted"
                await csms.wait_for("StopTransaction", timeout_s=20)
                mark = len(csms.calls)
                evse.plugged_in = False
                await csms.wait_for(
                    "StatusNotification",
                    lambda p: p["connectorId"] == 1 and p["status"] == "Available",
                    20,
                    since=mark,
                )
            await meter.stop()  # the meter is gone for good
            sdm.import_kwh = 9999.0  # what it would say, were it asked
            evse.plugged_in = True
            mark = len(csms.calls)
            async with running(settings):
                second, _ = await csms.wait_for("StartTransaction", timeout_s=30, since=mark)
            never = ScriptedCsms()
            never_url = await never.start()
            fresh = _modbus_settings(never_url, tmp_path / "fresh", board_port, meter_port)
            async with running(fresh) as charger:
                info, _ = await never.wait_for(
                    "StatusNotification", lambda p: "meter" in (p.get("info") or ""), 30
                )
                await asyncio.sleep(2)
                doc = charger.status_document()["connectors"][0]
            await never.close()
            return first, second, info, doc, never.of("StartTransaction")
        finally:
            await csms.close()
            await meter.stop()
            await board.stop()

    first, second, info, doc, never_started = asyncio.run(asyncio.wait_for(go(), 120))
    assert first["meterStart"] == round(REGISTER_WH)
    assert second["meterStart"] == round(REGISTER_WH)
    assert info["status"] == "Preparing"
    assert never_started == []
    assert "meter" in doc["pause_reason"]
    assert doc["transaction"] is None


def test_modbus_meter_answering_nan_is_a_meter_fault(tmp_path):
    async def go():
        sdm = Sdm630Emulator(device_id=2, import_kwh=math.nan)
        server = EmulatorServer([sdm])
        port = await server.start_tcp()
        bus = ModbusBus(host="127.0.0.1", tcp_port=port)
        meter = ModbusMeter(bus, "sdm630", device_id=2)
        try:
            with pytest.raises(DriverFault, match="non-finite"):
                await meter.read()
            sdm.import_kwh = math.inf
            with pytest.raises(DriverFault, match="non-finite"):
                await meter.read()
            sdm.import_kwh = 12.0
            return (await meter.read()).energy_wh
        finally:
            await meter.close()
            bus.close()
            await server.stop()

    assert asyncio.run(asyncio.wait_for(go(), 30)) == 12000.0


def test_nan_meter_with_free_vend_keeps_the_service_up(tmp_path):
    """Old code: round(nan) in StartTransaction killed the service (a restart loop under
    systemd), and RemoteStart was answered with InternalError."""

    async def go():
        evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2, import_kwh=math.nan)
        board, board_port, meter, meter_port, meter_up = await _servers(evse, sdm, 0.0)
        await meter_up()
        csms = ScriptedCsms()
        url = await csms.start()
        try:
            settings = _modbus_settings(url, tmp_path, board_port, meter_port)
            async with running(settings) as charger:
                await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, 30)
                remote = await csms.call("RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
                await asyncio.sleep(8)
                runs = [
                    t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Charger.run"
                ]
                alive = len(runs) == 1 and not runs[0].done()
                offered = charger.loop.unit(1).status.offered_a
                return remote, alive, offered, charger.ocpp.link_state
        finally:
            await csms.close()
            await meter.stop()
            await board.stop()

    remote, alive, offered, link = asyncio.run(asyncio.wait_for(go(), 60))
    assert remote[0] == 3 and remote[2]["status"] == "Accepted"
    assert alive and link == "booted"
    assert offered == 0.0  # no transaction without a meterStart, so no current


def _energies(payloads):
    out = []
    for p in payloads:
        for mv in p.get("meterValue", []):
            for sv in mv["sampledValue"]:
                if sv.get("measurand") == "Energy.Active.Import.Register":
                    out.append(float(sv["value"]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("resume", [False, True], ids=["stop-power-loss", "resume"])
def test_kill9_never_reports_a_register_below_the_one_already_sent(tmp_path, resume):
    """Old code: the sim meter restarted at 0 Wh, so the PowerLoss stop said ~0 Wh after 20+ Wh
    had been reported, and a resumed transaction's register went backwards."""

    async def go():
        csms = ScriptedCsms()
        await csms.start()
        cfg = write_config(tmp_path, csms.port, resume=resume, cp=CP)
        proc = await spawn(cfg)
        try:
            await csms.wait_for("StartTransaction", timeout_s=30)
            r = await csms.call(
                "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
            )
            assert r[2]["status"] == "Accepted"
            await csms.wait_for(
                "MeterValues", lambda p: max(_energies([p]), default=0) > 20, timeout_s=30
            )
            await asyncio.sleep(0.3)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            before = _energies([p for p, _ in csms.of("MeterValues")])
            mark = len(csms.calls)
            proc = await spawn(cfg)
            if resume:
                await csms.wait_for(
                    "MeterValues", lambda p: p.get("transactionId") is not None, 30, since=mark
                )
                await asyncio.sleep(3)
            else:
                await csms.wait_for("StopTransaction", timeout_s=30, since=mark)
                await asyncio.sleep(3)  # room for a wrong free-vend restart
            after = [(a, p) for a, p, _ in csms.calls[mark:]]
            return before, after
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
            await csms.close()

    before, after = asyncio.run(asyncio.wait_for(go(), 120))
    reported = max(before)
    assert reported > 20
    if resume:
        later = _energies([p for a, p in after if a == "MeterValues"])
        assert later and min(later) >= reported
    else:
        stops = [p for a, p in after if a == "StopTransaction"]
        assert len(stops) == 1 and stops[0]["reason"] == "PowerLoss"
        # meterStop is whole Wh, rounded to the nearest: never more than that below.
        assert stops[0]["meterStop"] >= reported - 0.5
        # The car stayed plugged in: free vend waits for a new plug-in.
        assert [a for a, _ in after if a == "StartTransaction"] == []
