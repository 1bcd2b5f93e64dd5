"""The service's dependencies resolve for the Pi (aarch64 and armv7l, Python 3.11), pinned.

Offline: the lock pins every dependency of pyproject.toml within its range, with hashes, and its
markers give a Pi lgpio (gpiozero's pin factory) and this x86 machine none. Online (skipped when
the index cannot be reached): pip finds a binary wheel for every locked package on both Pi
architectures, with the locked hashes, so a Pi never has to compile anything.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "systemd" / "requirements.lock"

PI_ENVS = {
    "aarch64": ["manylinux_2_17_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64"],
    "armv7l": ["linux_armv7l", "manylinux_2_17_armv7l", "manylinux_2_31_armv7l"],
}


def _env(machine: str) -> dict[str, str]:
    return {
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "python_version": "3.11",
        "python_full_version": "3.11.2",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def _locked() -> list[tuple[Requirement, list[str]]]:
    """(requirement with its marker, its hashes) for every entry of the lock."""
    text = LOCK.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.split("  #")[0].strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        hashes = [p.split("=", 1)[1] for p in parts if p.startswith("--hash=")]
        spec = " ".join(p for p in parts if not p.startswith("--hash="))
        out.append((Requirement(spec), hashes))
    return out


def _for(machine: str) -> dict[str, str]:
    env = _env(machine)
    pins = {}
    for req, _ in _locked():
        if req.marker is None or req.marker.evaluate(env):
            (spec,) = req.specifier
            pins[req.name.lower()] = spec.version
    return pins


def test_every_entry_is_pinned_with_hashes():
    entries = _locked()
    assert len(entries) > 10
    for req, hashes in entries:
        (spec,) = req.specifier
        assert spec.operator == "==", req
        assert hashes and all(h.startswith("sha256:") for h in hashes), req.name


@pytest.mark.parametrize("machine", ["aarch64", "armv7l", "x86_64"])
def test_lock_satisfies_pyproject_on_each_platform(machine):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = _for(machine)
    for dep in project["dependencies"]:
        req = Requirement(dep)
        if req.marker is not None and not req.marker.evaluate(_env(machine)):
            assert req.name.lower() not in pins
            continue
        assert req.name.lower() in pins, f"{req.name} missing from the lock: run make lock"
        assert req.specifier.contains(pins[req.name.lower()], prereleases=True), (
            f"{req.name}=={pins[req.name.lower()]} is outside {req.specifier}: run make lock"
        )


def test_a_pi_gets_lgpio_and_a_pc_does_not():
    assert "lgpio" in _for("aarch64")
    assert "lgpio" in _for("armv7l")
    assert "lgpio" not in _for("x86_64")
    assert Marker("platform_machine == 'aarch64'").evaluate(_env("aarch64"))


def test_installer_uses_the_lock_with_hashes():
    text = (REPO / "systemd" / "install.sh").read_text()
    assert '--require-hashes -r "$SRC/systemd/requirements.lock"' in text
    assert '--no-deps "$SRC"' in text


@pytest.mark.slow
@pytest.mark.parametrize("machine", ["aarch64", "armv7l"])
def test_every_locked_package_has_a_wheel_for_the_pi(machine, tmp_path):
    reqs = tmp_path / "req.txt"
    lines = []
    for req, hashes in _locked():
        if req.marker is None or req.marker.evaluate(_env(machine)):
            (spec,) = req.specifier
            lines.append(f"{req.name}=={spec.version} " + " ".join(f"--hash={h}" for h in hashes))
    reqs.write_text("\n".join(lines) + "\n")
    platforms = [arg for tag in PI_ENVS[machine] for arg in ("--platform", tag)]
    target = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    target += ["--abi", "abi3", "--abi", "none", *platforms]
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    out = subprocess.run(
        [*pip, *target, "--require-hashes", "-r", str(reqs), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    err = out.stderr
    if out.returncode != 0 and any(
        s in err for s in ("Temporary failure", "NewConnectionError", "Network is unreachable")
    ):
        pytest.skip(f"package index unreachable: {err.strip().splitlines()[-1]}")
    assert out.returncode == 0, err[-3000:]
    wheels = {p.name.split("-")[0].lower().replace("_", "-") for p in tmp_path.glob("*.whl")}
    assert "lgpio" in wheels and "rpds-py" in wheels  # both compiled: Pi wheels exist


def test_license_is_an_spdx_string():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    # A table here makes setuptools >= 77 print a deprecation warning on every install.
    assert data["project"]["license"] == "Apache-2.0"
    assert any(r.startswith("setuptools>=77") for r in data["build-system"]["requires"])
