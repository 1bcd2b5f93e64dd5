"""One service per state directory, enforced by the kernel.

Two services on one state directory would each think the other's live transaction was cut by
a power loss, stop it towards the CSMS while the car still charges, and fight over the status
socket. An `fcntl.flock` on a file in the directory is released by the kernel when the holder
exits in any way (kill -9 included), so a stale lock can never keep the service down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = "chargectl.lock"


class StateDirBusy(Exception):
    """Another process holds the state directory; the message says which and what to do."""


class StateDirLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise StateDirBusy at once; never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise StateDirBusy(
                f"state directory {self.path.parent} is in use by another chargectl "
                f"(pid {holder}); only one service may run per state directory. Stop that one "
                "first (systemctl stop chargectl), or give this one its own [state] dir."
            ) from None
        except BaseException:
            fh.close()
            raise
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> StateDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
