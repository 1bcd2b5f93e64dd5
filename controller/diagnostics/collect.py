"""Collect the diagnostics files and pack them, secrets scrubbed."""

from __future__ import annotations

import enum
import io
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from controller.diagnostics.logbuffer import RecentLog

log = logging.getLogger(__name__)

UNIT = "chargectl"
MASK = "****"
JOURNAL_TIMEOUT_S = 60.0


class DiagnosticsStatus(enum.StrEnum):
    UPLOADING = "Uploading"
    UPLOADED = "Uploaded"
    UPLOAD_FAILED = "UploadFailed"


@dataclass(frozen=True, slots=True)
class Sources:
    """Where each part comes from; callables so the values are read when the tarball is made."""

    charge_point_id: str
    config: Callable[[], dict[str, Any]]
    status: Callable[[], dict[str, Any]]
    queue: Callable[[], dict[str, Any]]
    secrets: Callable[[], Iterable[str]]
    recent_log: RecentLog | None = None
    extra: dict[str, Callable[[], Any]] = field(default_factory=dict)


def file_name(charge_point_id: str, now: datetime) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in charge_point_id)
    return f"diagnostics-{safe}-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def under_systemd() -> bool:
    """systemd sets INVOCATION_ID for every service it starts."""
    return bool(os.environ.get("INVOCATION_ID")) and shutil.which("journalctl") is not None


def journal_window(since: datetime | None, until: datetime | None) -> str:
    """`journalctl -u chargectl` for the window, in UTC ISO time stamps."""
    cmd = ["journalctl", "-u", UNIT, "--no-pager", "-o", "short-iso-precise", "--utc"]
    if since is not None:
        cmd += ["--since", _journal_time(since)]
    if until is not None:
        cmd += ["--until", _journal_time(until)]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=JOURNAL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"# journalctl failed: {exc}\n"
    text = out.stdout
    if out.returncode != 0:
        text += f"# journalctl exit status {out.returncode}: {out.stderr.strip()}\n"
    return text


def _journal_time(at: datetime) -> str:
    # journalctl reads "YYYY-MM-DD HH:MM:SS UTC" on every systemd version a Pi runs.
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def versions() -> dict[str, Any]:
    from controller import __version__

    return {
        "chargectl": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "venv": sys.prefix,
        "packages": sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()),
    }


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def build_tarball(
    sources: Sources,
    dest_dir: Path,
    now: datetime,
    since: datetime | None,
    until: datetime | None,
) -> Path:
    """Write the tarball into `dest_dir` and return its path."""
    if under_systemd():
        log_name, log_text = "journal.txt", journal_window(since, until)
    else:
        lines = sources.recent_log.window(since, until) if sources.recent_log else []
        log_name, log_text = "log.txt", "\n".join(lines) + ("\n" if lines else "")
    status = sources.status()
    parts: dict[str, Any] = {
        log_name: log_text,
        "config.json": sources.config(),
        "status.json": status,
        "versions.json": versions(),
        "profiles.json": status.get("profiles", []),
        "queue.json": sources.queue(),
    }
    for name, get in sources.extra.items():
        parts[name] = get()
    parts["manifest.json"] = {
        "charge_point_id": sources.charge_point_id,
        "created": now.astimezone(UTC).isoformat(),
        "window": {
            "since": None if since is None else since.astimezone(UTC).isoformat(),
            "until": None if until is None else until.astimezone(UTC).isoformat(),
        },
        "log_source": "journalctl -u chargectl" if log_name == "journal.txt" else "service log",
        "files": sorted(parts),
    }
    secrets = list(sources.secrets())
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = file_name(sources.charge_point_id, now)
    path = dest_dir / name
    folder = name.removesuffix(".tar.gz")
    import tarfile  # only when the CSMS asks: its import costs 0.4 MB of a Pi's memory

    with tarfile.open(path, "w:gz") as tar:
        for member, value in parts.items():
            text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
            data = scrub(text, secrets).encode()
            info = tarfile.TarInfo(f"{folder}/{member}")
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path
