"""Run chargectl as the service user and as a person in group evse, without touching /etc.

Processes get numeric ids through setgroups/setgid/setuid, so no account is created on the
machine. The interpreter may live where other uids cannot read (a root-only pyenv), so the child
starts as root, imports what the command needs, and only then drops to the ids (`as_user.py`).
Needs root; the files the processes use live in a world-traversable scratch directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

SERVICE_UID = SERVICE_GID = 61901  # "evse"
MEMBER_UID = 61902  # a person in group evse
OUTSIDER_UID = 61903  # a person who is not

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="changing uid/gid for the group-member checks needs root"
)


AS_USER = Path(__file__).with_name("as_user.py")


def as_ids(
    uid: int, gid: int, groups: Sequence[int], umask: int = 0o022, python: str = sys.executable
) -> list[str]:
    """The command prefix that runs `chargectl ARGS...` with these ids, by this interpreter."""
    return [
        python,
        str(AS_USER),
        str(uid),
        str(gid),
        ",".join(map(str, groups)),
        oct(umask),
    ]


def as_service(python: str = sys.executable) -> list[str]:
    # The unit's User=evse, Group=evse and UMask=0027.
    return as_ids(SERVICE_UID, SERVICE_GID, [SERVICE_GID], umask=0o027, python=python)


def as_member(python: str = sys.executable) -> list[str]:
    return as_ids(MEMBER_UID, MEMBER_UID, [SERVICE_GID], python=python)


def as_outsider() -> list[str]:
    return as_ids(OUTSIDER_UID, OUTSIDER_UID, [])


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A directory every uid can traverse (pytest's tmp_path is 0700 root)."""
    path = Path(tempfile.mkdtemp(prefix="chargectl-users-", dir="/tmp"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def state_dir(parent: Path) -> Path:
    """Like the unit's StateDirectory=chargectl with StateDirectoryMode=0750."""
    d = parent / "state"
    d.mkdir()
    os.chown(d, SERVICE_UID, SERVICE_GID)
    os.chmod(d, 0o750)
    return d


def start_service(
    args: list[str], env: dict[str, str], socket: Path, python: str = sys.executable
) -> subprocess.Popen[str]:
    """`chargectl ARGS` as the service user; returns once its status socket exists."""
    proc = subprocess.Popen(
        [*as_service(python), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.communicate()[0]
            raise AssertionError(f"the service did not open {socket}:\n{out}")
        time.sleep(0.1)
    return proc


def stop_service(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]
