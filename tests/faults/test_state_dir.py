"""A state directory that cannot be written, or a disk that fills up: a clear error, nothing
Accepted that was not stored, and the car kept safe."""

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import make_settings, running

from controller.demo import PAUSE_PROFILE
from controller.demo.csms import DemoCsms


def test_unwritable_state_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[state]\ndir = "{blocker}/state"\n[[connector]]\nid = 1\ndriver = "sim"\n')
    out = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 74
    assert "state directory" in out.stderr and "outputs are safe" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_refuses_the_profile_and_keeps_the_car_safe(tiny_disk):
    async def go():
        from ocpp.exceptions import InternalError
        from ocpp.v16 import call

        csms = DemoCsms()
        url = await csms.start()
        try:
            settings = make_settings(url, tiny_disk, free_vend_id_tag="FREE")
            async with running(settings) as charger:
                await csms.wait_for(
                    "StatusNotification", lambda r: r.payload["status"] == "Charging", 30
                )
                tx = next(r for r in csms.received if r.action == "StartTransaction")
                # Fill the disk.
                filler = tiny_disk / f"filler-{uuid.uuid4().hex}"
                try:
                    with filler.open("wb") as fh:
                        while True:
                            fh.write(b"\0" * 65536)
                except OSError:
                    pass
                try:
                    await csms.call(
                        "CP-T1",
                        call.SetChargingProfile(
                            connector_id=1,
                            cs_charging_profiles={
                                **PAUSE_PROFILE,
                                "transactionId": tx.payload["_assigned_transaction_id"],
                            },
                        ),
                    )
                    answer = "Accepted?"
                except InternalError:
                    answer = "InternalError"
                await asyncio.sleep(1.5)
                return (
                    answer,
                    charger.profiles.installed(),
                    charger.loop.healthy(),
                    charger.loop.unit(1).status.offered_a,
                )
        finally:
            await csms.close()

    answer, installed, healthy, offered = asyncio.run(asyncio.wait_for(go(), 60))
    assert answer == "InternalError"  # never Accepted for a profile that was not stored
    assert installed == []
    assert healthy  # the control loop keeps running
    assert offered == 32.0  # the limit in force before is still the one applied
