"""Install a verified release into a new virtual environment beside the running one.

Layout (systemd/install.sh makes it): the unit runs `/opt/chargectl/venv/bin/chargectl`, and
`/opt/chargectl/venv` is a symlink to `venvs/chargectl-VERSION`. A new release gets its own
`venvs/chargectl-VERSION`; the running one is never touched, so a failed install changes nothing.

Dependencies: the new venv receives the running venv's packages (hard links where the file
system allows, copies otherwise), chargectl's own files left out, then the release with
`--no-deps --no-index`, then `pip check`. On a Pi the running venv holds exactly
systemd/requirements.lock, so the new release runs on the locked set, needs no network besides
the download, and a release that needs other dependencies fails `pip check` (install it with
systemd/install.sh instead).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from controller.firmware.verify import PackageKind, Release

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 600.0  # pip on a Pi Zero is slow; a hung step must still end


class InstallError(Exception):
    """Why the release was not installed; meant for the log."""


@dataclass(frozen=True, slots=True)
class Layout:
    link: Path  # what the unit runs: /opt/chargectl/venv
    venvs: Path  # /opt/chargectl/venvs
    running: Path  # the venv of this process

    @classmethod
    def of_running(cls, prefix: str | None = None) -> Layout | None:
        """The layout around this process's venv, or None when it was installed otherwise."""
        venv = Path(prefix or sys.prefix)
        link = venv.parent.parent / "venv"
        if venv.parent.name != "venvs" or not link.is_symlink():
            return None
        return cls(link=link, venvs=venv.parent, running=venv)

    def venv_for(self, version: str) -> Path:
        return self.venvs / f"chargectl-{version}"


def install_release(release: Release, layout: Layout, config_path: Path) -> Path:
    """Build `venvs/chargectl-VERSION` and self-check it; remove it again on any failure."""
    target = layout.venv_for(release.version)
    if target.resolve() == layout.running.resolve():
        raise InstallError(f"chargectl {release.version} is the version running now")
    if target.resolve() == layout.link.resolve():
        raise InstallError(f"{target.name} is the version the service starts")
    if target.exists():
        log.info("removing %s left by an earlier attempt", target)
        shutil.rmtree(target)
    try:
        _build(release, target, config_path)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _build(release: Release, target: Path, config_path: Path) -> None:
    _run([sys.executable, "-m", "venv", "--without-pip", str(target)], "create the venv")
    copied = copy_dependencies(Path(sysconfig.get_paths()["purelib"]), _purelib(target))
    log.info("%d packages of the running venv linked into %s", copied, target.name)
    python = str(target / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    args = ["install", "--quiet", "--no-deps", "--no-index", "--no-cache-dir"]
    if release.kind is PackageKind.SDIST:
        args.append("--no-build-isolation")  # setuptools is in the lock: no network
    _run([*pip, *args, str(release.path)], "pip install")
    _run([*pip, "check"], "pip check (dependencies of the new release)")
    exe = str(target / "bin" / "chargectl")
    version = _run([exe, "--version"], "chargectl --version").strip()
    if version != f"chargectl {release.version}":
        raise InstallError(f"the new venv reports {version!r}, not chargectl {release.version}")
    _run([exe, "check-config", "--config", str(config_path)], "self-check (check-config)")


def _purelib(venv: Path) -> Path:
    return Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])


def _own_entries() -> set[str]:
    """Top-level names in site-packages that belong to the running chargectl itself."""
    try:
        files = importlib.metadata.distribution("chargectl").files or []
    except importlib.metadata.PackageNotFoundError:
        return set()
    return {f.parts[0] for f in files if f.parts and f.parts[0] != ".."}


def copy_dependencies(source: Path, dest: Path) -> int:
    """Everything in `source` but chargectl itself, hard-linked (copied across file systems)."""
    own = _own_entries() | {"controller", "hw"}
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for entry in sorted(source.iterdir()):
        if entry.name in own or entry.name.startswith(("chargectl-", "__editable__")):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, dest / entry.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(dest / entry.name))
        count += entry.name.endswith(".dist-info")
    return count


def _link_or_copy(src: str, dst: str) -> str:
    """Hard links save the Pi's SD card; pip replaces files rather than writing into them."""
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
        return dst
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _run(cmd: list[str], what: str) -> str:
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"{what}: {exc}") from None
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-8:]
        raise InstallError(f"{what} failed (exit status {out.returncode}): " + " | ".join(tail))
    return out.stdout


def prune(layout: Layout, keep: set[Path]) -> None:
    """Remove old releases; the running one, the one the link names and `keep` stay."""
    keep_resolved = {p.resolve() for p in keep} | {
        layout.running.resolve(),
        layout.link.resolve(),
    }
    for venv in layout.venvs.glob("chargectl-*"):
        if venv.resolve() not in keep_resolved:
            log.info("removing the old release %s", venv.name)
            shutil.rmtree(venv, ignore_errors=True)
