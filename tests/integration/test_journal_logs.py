"""What `chargectl run` writes to the journal: one record per line, each with its priority.

The service runs as a subprocess whose stderr is a file that JOURNAL_STREAM names, exactly as
systemd sets it up; a CSMS over a real websocket sends requests the charger does not implement,
then the service gets SIGTERM.
"""

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from controller.demo.csms import DemoCsms
from controller.logs import JournalFormatter

CP = "CP-JOURNAL"
UNSUPPORTED = {
    "GetLog": call.GetLog(
        log={
            "remote_location": "ftp://127.0.0.1/logs/",
            "oldest_timestamp": datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
        },
        log_type="DiagnosticsLog",
        request_id=7,
    ),
    "ExtendedTriggerMessage": call.ExtendedTriggerMessage(requested_message="Heartbeat"),
}
_LINE = re.compile(r"^<[0-7]>\S+: ")


def _config(tmp_path, url):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            log_level = "info"
            [ocpp]
            url = "{url}"
            charge_point_id = "{CP}"
            [state]
            dir = "{tmp_path / "state"}"
            [[connector]]
            id = 1
            driver = "sim"
            [simulator]
            ev_response_s = 0.3
            [web]
            listen = "127.0.0.1:0"  # on, as by default, without contending for port 8080
            """
        )
    )
    return cfg


async def _run_and_stop(tmp_path):
    csms = DemoCsms()
    url = await csms.start()
    log_path = tmp_path / "journal-stream.txt"
    answers = {}
    with log_path.open("wb") as stream:
        st = os.fstat(stream.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", PYTHONUNBUFFERED="1")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "controller",
            "run",
            "--config",
            str(_config(tmp_path, url)),
            stdout=stream,
            stderr=stream,
            env=env,
        )
        try:
            await csms.wait_for("BootNotification", timeout_s=30)
            await csms.wait_connected(CP, 10)
            for action, request in UNSUPPORTED.items():
                try:
                    answers[action] = await csms.call(CP, request, timeout_s=10)
                except OCPPError as exc:
                    answers[action] = exc
            proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await csms.close()
    return rc, answers, log_path.read_text()


def test_unsupported_requests_log_one_line_and_sigterm_logs_the_safe_state(tmp_path):
    rc, answers, text = asyncio.run(_run_and_stop(tmp_path))
    assert rc == 0, text[-3000:]
    lines = text.splitlines()
    # One record, one journal entry: every line carries a priority, no traceback continuation.
    assert lines and all(_LINE.match(line) for line in lines), text[-3000:]
    assert "Traceback" not in text
    not_implemented = [a for a, r in answers.items() if isinstance(r, OCPPError)]
    assert set(not_implemented) == set(UNSUPPORTED), answers
    for action in not_implemented:
        mentions = [line for line in lines if action in line]
        assert len(mentions) == 1, (action, mentions)
        assert mentions[0].startswith("<4>"), mentions[0]
        assert "answered NotSupported" in mentions[0]
    assert not_implemented or all(r is not None for r in answers.values())
    stopping = [line for line in lines if "SIGTERM: stopping" in line]
    assert len(stopping) == 1 and stopping[0].startswith("<6>")
    after = lines[lines.index(stopping[0]) :]
    assert any(
        "connector 1: safe state: pilot +12 V without PWM, contactor open" in line for line in after
    ), after
    assert not any(line.startswith(("<2>", "<3>")) for line in lines), text[-3000:]


def test_a_traceback_stays_one_entry_with_its_priority():
    fmt = JournalFormatter("%(message)s")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        record = logging.LogRecord(
            "chargectl", logging.ERROR, __file__, 1, "failed: %s", ("x",), sys.exc_info()
        )
    out = fmt.format(record)
    assert "\n" not in out
    assert out.startswith("<3>chargectl: failed: x\\nTraceback")
    assert "RuntimeError: boom\\nsecond line" in out


def _on_journal(tmp_path, args):
    """Run `python args...` with stderr as the journal stream; return its status and stderr."""
    path = tmp_path / "stream.txt"
    with path.open("wb") as stream:
        st = os.fstat(stream.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        rc = subprocess.run(
            [sys.executable, *args], stdout=stream, stderr=stream, env=env, timeout=60
        ).returncode
    return rc, path.read_text()


def test_a_configuration_error_is_one_entry_at_error_priority(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[connector]]\nid = 1\ndriver = "pwm"\nmax_current_a = 500\n')
    rc, text = _on_journal(tmp_path, ["-m", "controller", "run", "--config", str(cfg)])
    assert rc == 78
    assert len(text.splitlines()) == 1, text
    assert text.startswith("<3>chargectl: ") and "invalid configuration" in text
    assert "connector[0].driver" in text and "connector[0].max_current_a" in text


def test_an_internal_error_is_one_critical_entry(tmp_path):
    code = (
        "from controller.logs import setup_logging; setup_logging('info'); "
        "raise RuntimeError('a bug')"
    )
    rc, text = _on_journal(tmp_path, ["-c", code])
    assert rc == 1
    assert len(text.splitlines()) == 1, text
    assert text.startswith("<2>chargectl: unhandled error\\nTraceback")
    assert "RuntimeError: a bug" in text
