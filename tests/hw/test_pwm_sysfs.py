"""The kernel PWM output against a real file tree shaped like a Pi's /sys."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sysfs_tree import PI4_PWM, PI5_FAN, PI5_PWM, FakeSysfs

from hw.errors import DriverIOError, DriverUnavailable, HardwareError
from hw.pilot import PilotSignal
from hw.pwm_sysfs import SysfsPwm, probe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sysfs(tmp_path):
    tree = FakeSysfs(tmp_path / "sys")
    yield tree
    tree.close()


def test_finds_the_pwm_block_by_device_not_by_number(sysfs):
    # The fan block is pwmchip0 and comes first; the pilot block is pwmchip2.
    pwm = SysfsPwm(root=sysfs.root)
    assert pwm.device == PI5_PWM
    assert pwm.chip_dir.name == "pwmchip2"
    assert pwm.channel == 2  # GPIO18 on a Pi 5
    assert sysfs.exports == [(PI5_PWM, 2)]
    assert not sysfs.channel(0, PI5_FAN).exists()


def test_chip_numbers_swapped_still_finds_the_same_block(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", {PI5_PWM: 0, PI5_FAN: 2})
    try:
        pwm = SysfsPwm(root=tree.root)
        assert pwm.chip_dir.name == "pwmchip0" and pwm.device == PI5_PWM
    finally:
        tree.close()


def test_pi4_block_uses_channel_0(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", {PI4_PWM: 0})
    try:
        pwm = SysfsPwm(root=tree.root)
        assert (pwm.device, pwm.channel) == (PI4_PWM, 0)
        assert tree.read(0, "enable", PI4_PWM) == "1"
    finally:
        tree.close()


def test_open_sets_1khz_enabled_at_x1(sysfs):
    SysfsPwm(root=sysfs.root)
    assert sysfs.read(2, "period") == "1000000"
    assert sysfs.read(2, "duty_cycle") == "1000000"  # X1: +12 V DC
    assert sysfs.read(2, "enable") == "1"


@pytest.mark.parametrize(
    ("signal", "duty_ns", "inverted_ns"),
    [
        (PilotSignal.pwm(16), 266667, 733333),
        (PilotSignal.pwm(6), 100000, 900000),
        (PilotSignal.pwm(32), 533333, 466667),
        (PilotSignal.pwm(63), 892000, 108000),
        (PilotSignal.x1(), 1000000, 0),
        (PilotSignal.f(), 0, 1000000),
    ],
)
def test_signals_in_nanoseconds(sysfs, signal, duty_ns, inverted_ns):
    pwm = SysfsPwm(root=sysfs.root)
    pwm.apply(signal)
    assert sysfs.read(2, "duty_cycle") == str(duty_ns)
    assert sysfs.read(2, "enable") == "1"  # DC levels are 0/100 %, never a disabled channel
    inverted = SysfsPwm(root=sysfs.root, invert=True)  # same channel, already exported
    inverted.apply(signal)
    assert sysfs.read(2, "duty_cycle") == str(inverted_ns)
    assert inverted.read_duty() == pytest.approx(signal.duty_percent, abs=1e-3)


def test_reopening_an_exported_channel_with_another_period(sysfs):
    SysfsPwm(root=sysfs.root)
    ch = sysfs.channel(2)
    (ch / "period").write_text("2000000\n")
    (ch / "duty_cycle").write_text("1500000\n")
    pwm = SysfsPwm(root=sysfs.root)
    assert sysfs.exports == [(PI5_PWM, 2)]  # not exported twice
    assert pwm.read_duty() == 100.0
    assert sysfs.read(2, "period") == "1000000"


def test_close_leaves_x1_enabled_and_exported(sysfs):
    pwm = SysfsPwm(root=sysfs.root)
    pwm.apply(PilotSignal.pwm(16))
    pwm.close()
    pwm.close()
    assert sysfs.read(2, "duty_cycle") == "1000000"
    assert sysfs.read(2, "enable") == "1"
    assert sysfs.unexports == []


def test_missing_overlay_names_the_fix(tmp_path):
    with pytest.raises(DriverUnavailable, match=r"dtoverlay=pwm,pin=18,func=2"):
        SysfsPwm(root=tmp_path / "empty")


def test_only_the_fan_block_is_not_taken(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", {PI5_FAN: 0})
    try:
        with pytest.raises(DriverUnavailable, match=r"found: 1f0009c000\.pwm.*dtoverlay"):
            SysfsPwm(root=tree.root)
        with pytest.raises(DriverUnavailable, match=r"no PWM chip with device 'nope\.pwm'"):
            SysfsPwm("nope.pwm", root=tree.root)
    finally:
        tree.close()


def test_channel_out_of_range(sysfs):
    with pytest.raises(DriverUnavailable, match=r"channels 0-3, not 5"):
        SysfsPwm(channel=5, root=sysfs.root)


def test_channel_that_never_appears_times_out(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", npwm=4)
    tree.npwm = 2  # the kernel refuses channel 2 although npwm says 4
    try:
        with pytest.raises(DriverUnavailable, match="did not appear"):
            SysfsPwm(root=tree.root, export_timeout_s=0.2)
    finally:
        tree.close()


def test_write_errors_become_driver_errors(sysfs):
    pwm = SysfsPwm(root=sysfs.root)
    duty = sysfs.channel(2) / "duty_cycle"
    duty.unlink()
    duty.symlink_to("/dev/full")  # every write fails with ENOSPC
    with pytest.raises(DriverIOError, match="failed") as info:
        pwm.apply(PilotSignal.pwm(16))
    assert isinstance(info.value, HardwareError)


def test_unexported_by_someone_else(sysfs):
    pwm = SysfsPwm(root=sysfs.root)
    (sysfs.chips[PI5_PWM] / "unexport").write_text("2\n")
    deadline = 100
    while sysfs.channel(2).exists() and deadline:
        deadline -= 1
        asyncio.run(asyncio.sleep(0.01))
    with pytest.raises(DriverIOError, match="unexported by another program"):
        pwm.apply(PilotSignal.x1())
    with pytest.raises(DriverIOError, match=r"reading .*duty_cycle failed"):
        pwm.read_duty()


async def test_probe_reports_chip_and_channel(sysfs):
    results = await probe(root=sysfs.root)
    assert [r.ok for r in results] == [True, True]
    assert "not exported yet" in results[1].detail
    SysfsPwm(root=sysfs.root).apply(PilotSignal.pwm(16))
    results = await probe(root=sysfs.root)
    assert results[1].ok and "26.67 %" in results[1].detail
    assert sysfs.read(2, "duty_cycle") == "266667"  # probing changed nothing


async def test_probe_failures_carry_a_fix(tmp_path, sysfs):
    [missing] = await probe(root=tmp_path / "nothing")
    assert not missing.ok and "dtoverlay=pwm" in (missing.fix or "")
    results = await probe(channel=7, root=sysfs.root)
    assert not results[-1].ok and "channel 2 on a Pi 5" in (results[-1].fix or "")


# --- permissions: run the driver without the power to override file modes -----------------


def _unprivileged() -> list[str] | None:
    """A command prefix that runs without CAP_DAC_OVERRIDE, or None if that is impossible."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all"]


def _open_unprivileged(root: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot drop CAP_DAC_OVERRIDE")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from hw.errors import DriverUnavailable
        from hw.pwm_sysfs import SysfsPwm
        try:
            pwm = SysfsPwm(root=Path({str(root)!r}), export_timeout_s={timeout_s})
        except DriverUnavailable as exc:
            print("UNAVAILABLE", exc)
        else:
            print("OPENED", pwm.read_duty())
        """
    )
    return subprocess.run(
        [*prefix, sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_permission_granted_late_by_udev_is_waited_for(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", restricted=True, udev_delay_s=0.3)
    try:
        result = _open_unprivileged(tree.root, timeout_s=10.0)
        assert result.stdout.startswith("OPENED 100.0"), result.stdout + result.stderr
    finally:
        tree.close()


def test_channel_files_never_writable_names_the_udev_rule(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", restricted=True, udev_delay_s=None)
    try:
        result = _open_unprivileged(tree.root, timeout_s=0.3)
        assert result.stdout.startswith("UNAVAILABLE no permission to write"), (
            result.stdout + result.stderr
        )
        assert "99-chargectl-pwm.rules" in result.stdout and "group gpio" in result.stdout
    finally:
        tree.close()


def test_export_not_permitted_names_the_udev_rule(tmp_path):
    tree = FakeSysfs(tmp_path / "sys", restricted=True, export_writable=False)
    try:
        result = _open_unprivileged(tree.root, timeout_s=0.3)
        assert result.stdout.startswith("UNAVAILABLE no permission to export"), (
            result.stdout + result.stderr
        )
        assert "99-chargectl-pwm.rules" in result.stdout
        assert "Traceback" not in result.stderr
    finally:
        tree.close()
