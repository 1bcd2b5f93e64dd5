"""`chargectl selftest` end to end on the EV-emulator rig's circuit twin: the real sysfs PWM,
gpiozero relay/feedback/switch pins and MCP300x SPI code, an SDM630 emulator over Modbus TCP
and the embedded CSMS on loopback, run through the command line as the production line does."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hw"))
from rig_bench import RigBench, twin_bench

from controller.cli import main
from controller.demo.csms import DemoCsms
from hw.emulators.ev_rig import RigFaults
from hw.emulators.pn532 import Pn532Emulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer
from hw.ev_rig_circuit import RigSwitch


class Backends:
    """The meter emulator and the CSMS on their own event loop, as separate machines would be."""

    def __init__(self, meter: Sdm630Emulator) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = EmulatorServer([meter])
        self.csms = DemoCsms()
        self.meter_port = self._run(self.server.start_tcp())
        self.csms_url = self._run(self.csms.start())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self._run(self.server.stop())
        self._run(self.csms.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def backends() -> Iterator[Backends]:
    b = Backends(Sdm630Emulator(device_id=2))
    yield b
    b.close()


def _config(tmp_path: Path, backends: Backends, *, feedback: bool = True) -> Path:
    feedback_line = "contactor_feedback_gpio = 27\n" if feedback else ""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[ocpp]
url = "{backends.csms_url}"
charge_point_id = "EOL-1"

[state]
dir = "{tmp_path / "state"}"

[[connector]]
id = 1
driver = "sysfs_pwm"
max_current_a = 32

[connector.pilot]
{feedback_line}
[connector.meter]
type = "sdm630"
host = "127.0.0.1"
tcp_port = {backends.meter_port}
device_id = 2
"""
    )
    return path


def _run(bench: RigBench, config: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    reports = tmp_path / "reports"
    mp = pytest.MonkeyPatch()
    mp.setenv("CHARGECTL_SYSFS_ROOT", str(bench.sys_root))
    try:
        status = main(["selftest", "--config", str(config), "--report-dir", str(reports), *extra])
    finally:
        mp.undo()
    files = sorted(reports.glob("selftest-*.json")) if reports.exists() else []
    doc = json.loads(files[-1].read_text()) if files else {}
    return status, doc


def _steps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["steps"]}


def _assert_safe(bench: RigBench) -> None:
    twin = bench.twin
    assert twin is not None
    assert twin.duty_percent() == 100.0  # X1: +12 V, no PWM
    assert not twin.relay_energised
    assert twin.closed_switches() == frozenset()


def test_a_good_unit_passes_and_is_recorded_by_serial(tmp_path, backends, capsys):
    with twin_bench(tmp_path) as bench:
        status, doc = _run(bench, _config(tmp_path, backends), tmp_path, "--serial", "CC-0042")
        _assert_safe(bench)
    out = capsys.readouterr().out
    assert status == 0, out
    assert doc["serial_number"] == "CC-0042" and doc["result"] == "pass"
    steps = _steps(doc)
    for state in "ABCDEF":
        assert steps[f"pilot level {state}"]["result"] == "pass"
    assert steps["pilot level C"]["values"]["high_v"] == pytest.approx(6.0, abs=0.3)
    assert steps["diode check"]["result"] == "pass"
    for current_a, duty in ((6, 10.0), (10, 16.667), (16, 26.667), (32, 53.333)):
        step = steps[f"duty at {current_a} A"]
        assert step["result"] == "pass"
        assert step["values"]["duty_percent"] == pytest.approx(duty, abs=0.01)
    contactor = steps["contactor"]
    assert contactor["result"] == "pass"
    assert 0.01 <= contactor["values"]["close_s"] <= 0.5  # the twin's 15 ms contact delay
    assert steps["meter"]["result"] == "pass" and "230/231/229 V" in steps["meter"]["measured"]
    assert steps["OCPP link"]["result"] == "pass"
    step = steps["RFID test card"]
    assert step["result"] == "skip" and step["note"] == "no RFID reader configured"
    summary = next((tmp_path / "reports").glob("selftest-CC-0042-*.txt")).read_text()
    assert summary.startswith("chargectl selftest: PASS") and "serial number: CC-0042" in summary
    assert "PASS" in out and "pilot level D" in out


def test_a_welded_contactor_fails_and_leaves_the_outputs_safe(tmp_path, backends, capsys):
    with twin_bench(tmp_path, RigFaults(welded=True)) as bench:
        status, doc = _run(bench, _config(tmp_path, backends), tmp_path, "--serial", "W-1")
        _assert_safe(bench)
        assert bench.twin is not None and bench.twin.feedback_closed  # still welded
    assert status == 1
    contactor = _steps(doc)["contactor"]
    assert contactor["result"] == "fail" and "WELDED" in contactor["note"]
    assert "opened after never" in contactor["measured"]
    summary = next((tmp_path / "reports").glob("selftest-W-1-*.txt")).read_text()
    assert "chargectl selftest: FAIL" in summary and "- contactor: WELDED" in summary
    assert _steps(doc)["pilot level B"]["result"] == "pass"  # the other steps still ran


def test_a_miswired_rig_fails_the_levels_naming_the_pin(tmp_path, backends):
    wiring = {RigSwitch.PLUG: 5, RigSwitch.REQUEST: 13, RigSwitch.VENTILATION: 6}
    wiring[RigSwitch.SHORT] = 26
    with twin_bench(tmp_path, RigFaults(wiring=wiring)) as bench:
        status, doc = _run(bench, _config(tmp_path, backends), tmp_path, "--serial", "M-1")
        _assert_safe(bench)
    assert status == 1
    c = _steps(doc)["pilot level C"]
    assert c["result"] == "fail" and "request (GPIO6)" in c["note"] and "miswired" in c["note"]
    assert c["measured"].startswith("state D")
    assert _steps(doc)["pilot level B"]["result"] == "pass"


def test_without_feedback_wiring_the_contactor_step_is_skipped_not_passed(tmp_path, backends):
    with twin_bench(tmp_path) as bench:
        status, doc = _run(
            bench, _config(tmp_path, backends, feedback=False), tmp_path, "--serial", "N-1"
        )
    assert status == 0
    assert _steps(doc)["contactor"]["result"] == "skip"


def test_an_unreachable_csms_fails_the_link_step(tmp_path, backends):
    with twin_bench(tmp_path) as bench:
        config = _config(tmp_path, backends)
        text = config.read_text().replace(backends.csms_url, "ws://127.0.0.1:9/ocpp")
        config.write_text(text)
        status, doc = _run(bench, config, tmp_path, "--serial", "O-1")
    assert status == 1
    link = _steps(doc)["OCPP link"]
    assert link["result"] == "fail" and "127.0.0.1:9" in link["note"]


@pytest.mark.parametrize(
    ("args", "config_text", "message"),
    [
        ([], None, "no serial number"),
        (["--serial", "X", "--rig", "plug=5,horn=6"], None, "unknown rig switch 'horn'"),
        (["--serial", "X", "--rig", "plug=5,request=5"], None, "same GPIO"),
        (["--serial", "X", "--connector", "2"], None, "no connector 2"),
        (["--serial", "X"], '[[connector]]\nid = 1\ndriver = "sim"\n', "driver 'sim'"),
        (["--serial", "X"], "[[connector]]\nid = 1\nmax_current_a = 500\n", "max_current_a"),
    ],
)
def test_bad_input_is_a_clear_error_with_status_2(tmp_path, args, config_text, message, capsys):
    config = tmp_path / "config.toml"
    config.write_text(config_text or '[[connector]]\nid = 1\ndriver = "sysfs_pwm"\n')
    status = main(["selftest", "--config", str(config), "--report-dir", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.glob("selftest-*"))


def test_missing_pwm_channel_is_a_clear_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "sys" / "class" / "pwm").mkdir(parents=True)
    monkeypatch.setenv("CHARGECTL_SYSFS_ROOT", str(tmp_path / "sys"))
    config = tmp_path / "config.toml"
    config.write_text('[[connector]]\nid = 1\ndriver = "sysfs_pwm"\n')
    status = main(["selftest", "--config", str(config), "--serial", "X", "--no-ocpp"])
    err = capsys.readouterr().err
    assert status == 2 and "check-hw" in err and "Traceback" not in err


def test_a_dead_meter_fails_its_step_and_the_rest_still_runs(tmp_path, backends):
    with twin_bench(tmp_path) as bench:
        config = _config(tmp_path, backends)
        text = config.read_text().replace(f"tcp_port = {backends.meter_port}", "tcp_port = 9")
        config.write_text(text)
        status, doc = _run(bench, config, tmp_path, "--serial", "D-1")
        _assert_safe(bench)
    assert status == 1
    steps = _steps(doc)
    assert steps["meter"]["result"] == "fail"
    assert steps["contactor"]["result"] == "pass" and steps["OCPP link"]["result"] == "pass"


# The RFID step through the real PN532 driver, its frames over a socat PTY pair to the
# emulator: the card is on the antenna before the step starts, as a rig's card holder does.


@pytest.fixture
def pn532_ports(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    host, chip = tmp_path / "ttyPN532", tmp_path / "ttyChip"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={chip}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(250):
        if host.exists() and chip.exists():
            break
        time.sleep(0.02)
    yield str(host), str(chip)
    proc.kill()
    proc.wait()


def _with_reader(config: Path, port: str) -> Path:
    text = config.read_text() + f'\n[connector.rfid]\ntype = "pn532"\nport = "{port}"\n'
    text += "poll_interval_s = 0.05\n"
    config.write_text(text)
    return config


def _card_run(
    tmp_path: Path, backends: Backends, ports: tuple[str, str], card: str | None, *extra: str
) -> tuple[int, dict[str, Any]]:
    host, chip = ports
    with twin_bench(tmp_path) as bench, Pn532Emulator(chip) as emu:
        emu.card = None if card is None else bytes.fromhex(card)
        config = _with_reader(_config(tmp_path, backends), host)
        status, doc = _run(bench, config, tmp_path, "--serial", "R-1", "--no-ocpp", *extra)
        _assert_safe(bench)
        assert emu.sam_configured  # the real driver woke and configured the chip
    return status, doc


def test_the_right_test_card_passes_reported_as_its_id_tag(tmp_path, backends, pn532_ports, capsys):
    status, doc = _card_run(tmp_path, backends, pn532_ports, "1c78f2bf", "--test-card", "1c78f2bf")
    out = capsys.readouterr().out
    assert status == 0, out
    step = _steps(doc)["RFID test card"]
    assert step["result"] == "pass" and step["measured"].startswith("1C78F2BF after")
    assert step["expected"] == "card 1C78F2BF within 20 s"
    assert "present the test card 1C78F2BF" in out


def test_any_card_passes_without_test_card(tmp_path, backends, pn532_ports):
    status, doc = _card_run(tmp_path, backends, pn532_ports, "04C43BC21C2680")
    assert status == 0
    assert _steps(doc)["RFID test card"]["measured"].startswith("04C43BC21C2680 after")


def test_a_wrong_card_fails_naming_both(tmp_path, backends, pn532_ports):
    status, doc = _card_run(tmp_path, backends, pn532_ports, "11223344", "--test-card", "1C78F2BF")
    assert status == 1
    step = _steps(doc)["RFID test card"]
    assert step["result"] == "fail"
    assert step["note"] == "wrong card: read 11223344, expected 1C78F2BF"
    assert _steps(doc)["meter"]["result"] == "pass"  # the other steps still ran


def test_no_card_fails_after_the_timeout(tmp_path, backends, pn532_ports):
    started = time.monotonic()
    status, doc = _card_run(tmp_path, backends, pn532_ports, None, "--rfid-timeout-s", "1")
    assert status == 1
    step = _steps(doc)["RFID test card"]
    assert step["result"] == "fail" and step["measured"] == "no card"
    assert "present the test card" in step["note"]
    assert 1.0 <= step["values"]["waited_s"] < 5.0
    assert time.monotonic() - started < 60  # bounded: the step did not hang


def test_a_reader_that_does_not_answer_fails_with_the_fix(tmp_path, backends, pn532_ports):
    host, _chip = pn532_ports  # no emulator on the other end
    with twin_bench(tmp_path) as bench:
        config = _with_reader(_config(tmp_path, backends), host)
        status, doc = _run(bench, config, tmp_path, "--serial", "R-2", "--no-ocpp")
        _assert_safe(bench)
    assert status == 1
    step = _steps(doc)["RFID test card"]
    assert step["result"] == "fail" and "dtoverlay=disable-bt" in step["note"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--test-card", "1C-78"], "--test-card: '1C-78' is not an idTag"),
        (["--test-card", "A" * 21], "is not an idTag"),
        (["--rfid-timeout-s", "0"], "--rfid-timeout-s: 0 is not between"),
        (["--rfid-timeout-s", "nan"], "--rfid-timeout-s"),
    ],
)
def test_bad_rfid_options_are_clear_errors(tmp_path, args, message, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[[connector]]\nid = 1\ndriver = "sysfs_pwm"\n')
    status = main(["selftest", "--config", str(config), "--serial", "X", *args])
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err
