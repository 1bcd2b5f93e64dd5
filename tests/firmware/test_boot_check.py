"""The unit's boot check (systemd/chargectl-boot-check) and the service's side of its files."""

import os
import subprocess
from pathlib import Path

import pytest

from controller.firmware import bootstate
from controller.firmware.model import FirmwareStatus

SCRIPT = Path(__file__).resolve().parents[2] / "systemd" / "chargectl-boot-check"


@pytest.fixture
def layout(tmp_path):
    """opt/venvs/chargectl-{1,2} with an executable chargectl each; opt/venv -> release 1."""
    opt = tmp_path / "opt"
    for name in ("chargectl-1", "chargectl-2"):
        exe = opt / "venvs" / name / "bin" / "chargectl"
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    (opt / "venv").symlink_to("venvs/chargectl-1")
    state = tmp_path / "state"
    (state / "firmware").mkdir(parents=True)
    return opt / "venv", state


def _boot_check(link: Path, state: Path) -> str:
    out = subprocess.run(
        ["sh", str(SCRIPT), str(state), str(link)], capture_output=True, text=True, check=True
    )
    return out.stderr


def test_nothing_staged_changes_nothing(layout):
    link, state = layout
    assert _boot_check(link, state) == ""
    assert os.readlink(link) == "venvs/chargectl-1"
    assert sorted(p.name for p in (state / "firmware").iterdir()) == []


def test_no_state_dir_at_all_is_fine(layout, tmp_path):
    link, _ = layout
    assert _boot_check(link, tmp_path / "nowhere") == ""
    assert os.readlink(link) == "venvs/chargectl-1"


def test_a_staged_release_is_switched_to_and_put_on_trial(layout):
    link, state = layout
    bootstate.request_switch(state, "chargectl-2")
    out = _boot_check(link, state)
    assert "switched to chargectl-2 (was chargectl-1)" in out
    assert os.readlink(link) == "venvs/chargectl-2"
    assert (state / "firmware" / "starts").read_text().strip() == "1"
    assert not (state / "firmware" / "switch").exists()
    # The accepted boot of the new release settles it: Installed, trial gone.
    settled = bootstate.settle_boot(state, "chargectl-2")
    assert settled == bootstate.Settled(FirmwareStatus.INSTALLED, "chargectl-2", "chargectl-1")
    assert not (state / "firmware" / "trial").exists()
    _boot_check(link, state)
    assert os.readlink(link) == "venvs/chargectl-2"
    assert bootstate.settle_boot(state, "chargectl-2") is None


def test_a_release_that_never_boots_is_rolled_back_after_max_starts(layout):
    link, state = layout
    bootstate.request_switch(state, "chargectl-2", max_starts=2)
    for _ in range(2):
        _boot_check(link, state)
        assert os.readlink(link) == "venvs/chargectl-2"
    out = _boot_check(link, state)
    assert "chargectl-2 did not reach an accepted boot in 2 starts: back to chargectl-1" in out
    assert os.readlink(link) == "venvs/chargectl-1"
    assert oct((state / "firmware" / "rolled-back").stat().st_mode & 0o777) == "0o644"
    settled = bootstate.settle_boot(state, "chargectl-1")
    assert settled is not None and settled.status is FirmwareStatus.INSTALLATION_FAILED
    assert settled.target == "chargectl-2"
    assert bootstate.settle_boot(state, "chargectl-1") is None


@pytest.mark.parametrize("target", ["../../etc", "chargectl-9", "", ".hidden"])
def test_a_switch_to_anything_but_an_installed_release_is_ignored(layout, target):
    link, state = layout
    (state / "firmware" / "switch").write_text(f"target={target}\n")
    out = _boot_check(link, state)
    assert "ignoring the switch request" in out
    assert os.readlink(link) == "venvs/chargectl-1"
    assert not (state / "firmware" / "trial").exists()


def test_the_previous_release_gone_still_ends_the_trial(layout):
    link, state = layout
    bootstate.request_switch(state, "chargectl-2", max_starts=1)
    _boot_check(link, state)
    (link.parent / "venvs" / "chargectl-1" / "bin" / "chargectl").unlink()
    out = _boot_check(link, state)
    assert "'chargectl-1' is gone" in out
    assert os.readlink(link) == "venvs/chargectl-2"
    assert (state / "firmware" / "rolled-back").exists()


def test_a_persisted_job_survives_and_a_damaged_one_is_forgotten(tmp_path):
    from datetime import UTC, datetime

    from controller.firmware.model import UpdateRequest

    req = UpdateRequest.of("http://x/chargectl-2-py3-none-any.whl", datetime.now(UTC), 0, None)
    assert req.attempts == 1  # "retries" counts tries: at least one
    bootstate.save_job(tmp_path, bootstate.Job.of(req))
    job = bootstate.load_job(tmp_path)
    assert job is not None and job.request() == req
    (tmp_path / "firmware" / "job.json").write_text("{not json")
    assert bootstate.load_job(tmp_path) is None
    assert not (tmp_path / "firmware" / "job.json").exists()


async def test_an_update_cut_by_a_restart_resumes_after_the_next_accepted_boot(tmp_path):
    from datetime import UTC, datetime, timedelta

    from controller.firmware.model import UpdateRequest
    from controller.firmware.updater import FirmwareUpdater

    reports = []

    async def restart() -> None:
        reports.append("restart")

    def updater():
        return FirmwareUpdater(
            tmp_path,
            None,
            None,
            report=reports.append,
            idle=lambda: True,
            restart=restart,
            now=lambda: datetime.now(UTC),
        )

    req = UpdateRequest("http://127.0.0.1:9/chargectl-2-py3-none-any.whl", datetime.now(UTC), 1, 0)
    assert updater().accept(req)  # ... and the service stopped before doing anything
    fresh = updater()
    assert fresh.on_boot_accepted()  # the persisted job is picked up again
    assert not fresh.on_boot_accepted()  # once
    await fresh.run()
    assert reports == [FirmwareStatus.DOWNLOADING, FirmwareStatus.DOWNLOAD_FAILED]
    assert not updater().on_boot_accepted()  # finished: nothing left to resume
    later = UpdateRequest(req.location, datetime.now(UTC) + timedelta(days=1), 1, 0)
    assert updater().accept(later)
