"""`make demo` installs only what the demo needs; `make test` adds the test toolchain and says
in its summary which tests were skipped and why."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = ("[test]", "mypy", "ruff", "hypothesis", "pytest")


def _dry_run(target, venv):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_make_demo_on_a_fresh_clone_installs_only_the_runtime(tmp_path):
    commands = _dry_run("demo", tmp_path / "venv")
    installs = [
        line.split("pip install", 1)[1] for line in commands.splitlines() if "pip install" in line
    ]
    assert installs, commands
    assert not any(tool in line for line in installs for tool in TEST_TOOLS), installs
    assert "chargectl demo" in commands


def test_make_test_on_a_fresh_clone_installs_the_test_extra(tmp_path):
    commands = _dry_run("test", tmp_path / "venv")
    assert "-e '.[test]'" in commands
    assert "mypy" in commands and "ruff check" in commands and "pytest" in commands


def test_the_summary_names_the_reason_of_every_skip():
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hw/test_hil_pi.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:]
    assert "skipped tests, by reason" in out.stdout
    assert "skipped: needs a real Raspberry Pi: run with --hil" in out.stdout
