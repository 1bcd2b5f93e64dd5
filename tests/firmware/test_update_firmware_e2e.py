"""UpdateFirmware end to end: the real `chargectl run` from a versioned venv, against the strict
independent CSMS (npm ocpp-rpc), wheels of this checkout built in the test and served over HTTP.

One story, in the order a charger would live it: a release that fails its self-check is never
switched to; a release that installs but cannot start is rolled back by the boot check after
three starts (InstallationFailed); a good release is switched to, restarted into, and named in
BootNotification (Installed). No schema violation in either direction.
"""

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from release_rig import (
    CURRENT,
    Service,
    build_wheel,
    file_server,
    make_layout,
    sha256,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from strict_csms import StrictCsms

CP = "CP-FW-1"
EX_RESET = 75  # controller.app: the service restarts itself; systemd starts it again

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(StrictCsms.available() is not None, reason=str(StrictCsms.available())),
]

GOOD, NO_SELFCHECK, CANNOT_START = "99.0.1", "99.0.2", "99.0.3"


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    work = tmp_path_factory.mktemp("releases")
    return {
        CURRENT: build_wheel(work, CURRENT),
        GOOD: build_wheel(work, GOOD),
        # A broken module: the new venv's `chargectl check-config` fails.
        NO_SELFCHECK: build_wheel(
            work,
            NO_SELFCHECK,
            {"controller/config.py": ("class ConfigError(Exception):", "class ConfigError(:")},
        ),
        # Passes check-config, dies at every start of the service.
        CANNOT_START: build_wheel(
            work,
            CANNOT_START,
            {
                "controller/app.py": (
                    "async def serve(settings: Settings) -> int:\n",
                    "async def serve(settings: Settings) -> int:\n"
                    "    raise RuntimeError('this release cannot start')\n",
                )
            },
        ),
    }


def _config(path: Path, url: str, state: Path) -> Path:
    path.write_text(
        f'[ocpp]\nurl = "{url}"\ncharge_point_id = "{CP}"\nmax_reconnect_interval_s = 2\n'
        f'[state]\ndir = "{state}"\n'
        '[[connector]]\nid = 1\ndriver = "sim"\n'
        "[web]\nenabled = false\n"
    )
    return path


def _statuses(csms, since):
    return [e["payload"]["status"] for e in csms.calls("FirmwareStatusNotification")[since:]]


def _is(status):
    return lambda p: p["status"] == status


async def _update(csms, base, wheel, digest=True):
    location = f"{base}/{wheel.name}" + (f"#sha256={sha256(wheel)}" if digest else "")
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    result = await csms.call(
        CP,
        "UpdateFirmware",
        {"location": location, "retrieveDate": now, "retries": 2, "retryInterval": 1},
    )
    assert result == {}


async def test_update_firmware_switches_rolls_back_and_reports(tmp_path, releases):
    opt = tmp_path / "opt"
    link = make_layout(opt, releases[CURRENT])
    state = tmp_path / "state"
    dist = releases[CURRENT].parent
    async with StrictCsms.start() as csms:
        svc = Service(opt, state, _config(tmp_path / "config.toml", csms.url, state))
        with file_server(dist) as base:
            try:
                svc.start()
                boot = await csms.wait_for_call("BootNotification", timeout=60)
                assert boot["payload"]["firmwareVersion"] == CURRENT

                # 1. The self-check fails: nothing switched, the service runs on.
                seen = len(csms.calls("FirmwareStatusNotification"))
                await _update(csms, base, releases[NO_SELFCHECK])
                await csms.wait_for_call(
                    "FirmwareStatusNotification", _is("InstallationFailed"), 180
                )
                assert _statuses(csms, seen) == [
                    "Downloading",
                    "Downloaded",
                    "Installing",
                    "InstallationFailed",
                ]
                assert svc.proc.poll() is None
                assert svc.running_version() == CURRENT
                assert not (opt / "venvs" / f"chargectl-{NO_SELFCHECK}").exists()
                assert "self-check (check-config) failed" in svc.log()

                # 2. Installs and checks, but cannot start: three starts, then rolled back.
                seen = len(csms.calls("FirmwareStatusNotification"))
                await _update(csms, base, releases[CANNOT_START])
                assert await asyncio.to_thread(svc.wait_exit, 240) == EX_RESET
                assert _statuses(csms, seen) == ["Downloading", "Downloaded", "Installing"]
                for _ in range(3):
                    svc.start()
                    assert svc.running_version() == CANNOT_START
                    assert await asyncio.to_thread(svc.wait_exit, 60) not in (0, EX_RESET)
                boots = len(csms.calls("BootNotification"))
                mark = len(csms.events)
                svc.start()
                assert svc.running_version() == CURRENT
                assert "did not reach an accepted boot in 3 starts" in svc.boot_check_output[-1]
                await csms.wait_for_call("BootNotification", timeout=60, since=mark)
                await csms.wait_for_call(
                    "FirmwareStatusNotification", _is("InstallationFailed"), 60, since=mark
                )
                assert len(csms.calls("BootNotification")) == boots + 1
                assert csms.calls("BootNotification")[-1]["payload"]["firmwareVersion"] == CURRENT
                assert _statuses(csms, seen) == [
                    "Downloading",
                    "Downloaded",
                    "Installing",
                    "InstallationFailed",
                ]

                # 3. A good release: switched, restarted into, named in BootNotification.
                seen = len(csms.calls("FirmwareStatusNotification"))
                boots = len(csms.calls("BootNotification"))
                await _update(csms, base, releases[GOOD])
                assert await asyncio.to_thread(svc.wait_exit, 240) == EX_RESET
                mark = len(csms.events)
                svc.start()
                assert os.readlink(link) == f"venvs/chargectl-{GOOD}"
                await csms.wait_for_call(
                    "FirmwareStatusNotification", _is("Installed"), 60, since=mark
                )
                assert csms.calls("BootNotification")[boots]["payload"]["firmwareVersion"] == GOOD
                assert _statuses(csms, seen) == [
                    "Downloading",
                    "Downloaded",
                    "Installing",
                    "Installed",
                ]
                # The previous release stays for a rollback by hand; the failed one is gone.
                left = sorted(p.name for p in (opt / "venvs").iterdir())
                assert left == [f"chargectl-{CURRENT}", f"chargectl-{GOOD}"]
                assert not (state / "firmware" / "trial").exists()
            finally:
                svc.stop()
                print(svc.log()[-6000:])
        assert csms.violations == []
