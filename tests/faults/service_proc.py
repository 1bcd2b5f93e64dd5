"""`chargectl run` as a real process, for tests about crashes and what is left on disk."""

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import textwrap

CP = "CP-SF"

CAP_10A = {
    "chargingProfileId": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "startSchedule": "2024-01-01T00:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
    },
}


def write_config(
    tmp_path, port, extra="", connector=None, *, resume=False, cp=CP, free_vend="FREE"
):
    """`free_vend` None: no free-vend tag, a session starts only with a card."""
    cfg = tmp_path / "config.toml"
    connector = connector or '[[connector]]\nid = 1\ndriver = "sim"\n'
    vend = "" if free_vend is None else f'free_vend_id_tag = "{free_vend}"'
    cfg.write_text(
        textwrap.dedent(f"""
        [ocpp]
        url = "ws://127.0.0.1:{port}/ocpp"
        charge_point_id = "{cp}"
        {vend}
        resume_transaction_after_power_loss = {str(resume).lower()}
        max_reconnect_interval_s = 1
        [state]
        dir = "{tmp_path / "state"}"
        [simulator]
        ev_response_s = 0.3
        """)
        + connector
        + extra
    )
    return cfg


async def spawn(cfg):
    """`chargectl run` with its output discarded, for tests that only kill it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller",
        "run",
        "--config",
        str(cfg),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


class Service:
    """One `chargectl run` process; stderr is collected for the assertions."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.proc = None
        self.stderr = b""

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "controller",
            "run",
            "--config",
            str(self.cfg),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        while chunk := await self.proc.stderr.read(4096):
            self.stderr += chunk

    @property
    def log(self):
        return self.stderr.decode(errors="replace")

    async def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        await self._reader

    async def stop(self):
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(Exception):
            await self._reader

    async def wait_exit(self, timeout_s):
        await asyncio.wait_for(self.proc.wait(), timeout_s)
        await self._reader
        return self.proc.returncode


def status_json(cfg):
    out = subprocess.run(
        [sys.executable, "-m", "controller", "status", "--json", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


async def wait_status(cfg, predicate, timeout_s=30.0):
    """Poll `chargectl status --json` until `predicate(doc)` holds; return the document."""
    last = None
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                try:
                    doc = await asyncio.to_thread(status_json, cfg)
                except (AssertionError, json.JSONDecodeError) as exc:
                    last = exc
                    doc = None
                if doc is not None:
                    last = doc
                    if predicate(doc):
                        return doc
                await asyncio.sleep(0.5)
    except TimeoutError:
        raise AssertionError(f"status never matched; last: {last}") from None
