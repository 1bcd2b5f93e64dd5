"""Releases of chargectl built in the test, a /opt/chargectl-like layout, and a service loop
that does what systemd does: the boot check (ExecStartPre), then `chargectl run` from the link.

The first venv gets the test environment's runtime dependencies (the closure of chargectl's
requirements, plus pip) copied in, as systemd/install.sh would get them from the lock; every
later release is installed by the service itself.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
BOOT_CHECK = REPO / "systemd" / "chargectl-boot-check"
CURRENT = re.search(
    r'__version__ = "(.*)"', (REPO / "controller" / "__init__.py").read_text()
).group(1)


def build_wheel(work: Path, version: str, patch: dict[str, tuple[str, str]] | None = None) -> Path:
    """A wheel of this checkout with `version` and, optionally, files patched (old -> new)."""
    src = work / f"src-{version}"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in ("controller", "hw"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "README.md", src)
    pyproject = (REPO / "pyproject.toml").read_text()
    (src / "pyproject.toml").write_text(
        pyproject.replace(f'version = "{CURRENT}"', f'version = "{version}"', 1)
    )
    init = src / "controller" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{CURRENT}"', f'"{version}"'))
    for rel, (old, new) in (patch or {}).items():
        f = src / rel
        text = f.read_text()
        assert old in text, (rel, old)
        f.write_text(text.replace(old, new, 1))
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    wheel = dist / f"chargectl-{version}-py3-none-any.whl"
    assert wheel.exists(), sorted(dist.iterdir())
    return wheel


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _runtime_closure() -> set[str]:
    """Distribution names chargectl needs here (markers evaluated), and pip."""
    seen: set[str] = set()
    todo = ["chargectl", "pip"]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    seen.discard("chargectl")
    return seen


def make_layout(root: Path, wheel: Path) -> Path:
    """root/venvs/chargectl-VERSION with the runtime dependencies and `wheel`; root/venv links
    to it. Returns the link."""
    version = wheel.name.split("-")[1]
    venvs = root / "venvs"
    venv = venvs / f"chargectl-{version}"
    venvs.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    here = Path(sysconfig.get_paths()["purelib"])
    for key in _runtime_closure():
        dist = metadata.distribution(key)
        for f in dist.files or []:
            if f.parts[0] == "..":
                continue
            src = here / f
            if src.is_file():
                dst = purelib / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                if not dst.exists():
                    os.link(src, dst)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    link = root / "venv"
    link.symlink_to(f"venvs/{venv.name}")
    return link


def service_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHARGECTL_", "VIRTUAL_ENV", "PYTHON")) and k != "INVOCATION_ID"
    }
    env.update(CHARGECTL_ENV_FILE=os.devnull, PYTHONUNBUFFERED="1")
    return env


class Service:
    """`systemctl start chargectl` for the layout under `root`: boot check, then the link's
    chargectl; each start's output goes to its own log file."""

    def __init__(self, root: Path, state_dir: Path, config: Path) -> None:
        self.root = root
        self.state_dir = state_dir
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.boot_check_output: list[str] = []

    def start(self) -> None:
        out = subprocess.run(
            ["sh", str(BOOT_CHECK), str(self.state_dir), str(self.root / "venv")],
            capture_output=True,
            text=True,
            check=True,
        )
        self.boot_check_output.append(out.stderr)
        self.starts += 1
        log = (self.root / f"start-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [str(self.root / "venv" / "bin" / "chargectl"), "run", "--config", str(self.config)],
            env=service_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_exit(self, timeout_s: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout_s)

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.root.glob("start-*.log")))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def running_version(self) -> str:
        return os.readlink(self.root / "venv").removeprefix("venvs/chargectl-")


@contextmanager
def file_server(directory: Path):
    """A plain HTTP server for `directory` on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
