"""The files the service and the unit's boot check (systemd/chargectl-boot-check) share.

All live in `STATE_DIR/firmware/`:
  `switch`       the service staged a release: `target=chargectl-VERSION`; the boot check
                 switches the link at the next start and turns it into `trial`
  `trial`        `previous=...` and `target=...`: the new release is on trial; `starts` counts
                 the boot check's runs since the switch
  `rolled-back`  the trial ran out of starts and the boot check switched back
  `job.json`     the update the CSMS asked for, so a restart resumes it or reports it
An accepted boot settles them: the trial passed (Installed) or was rolled back
(InstallationFailed).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from controller.firmware.model import FirmwareStatus, UpdateRequest

# How many starts a new release gets to reach an accepted boot; the boot check reads it
# from `max-starts` when present (the service writes it with the switch request).
MAX_STARTS = 3


def firmware_dir(state_dir: Path) -> Path:
    return state_dir / "firmware"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fields(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def request_switch(state_dir: Path, target_name: str, max_starts: int = MAX_STARTS) -> None:
    d = firmware_dir(state_dir)
    _write(d / "max-starts", f"{max_starts}\n")
    _write(d / "switch", f"target={target_name}\n")


def switch_pending(state_dir: Path) -> str | None:
    path = firmware_dir(state_dir) / "switch"
    return _fields(path).get("target") if path.exists() else None


@dataclass(frozen=True, slots=True)
class Settled:
    status: FirmwareStatus
    target: str
    previous: str


def settle_boot(state_dir: Path, running_name: str) -> Settled | None:
    """After an accepted boot: what to tell the CSMS about the last switch, if anything."""
    d = firmware_dir(state_dir)
    rolled = d / "rolled-back"
    if rolled.exists():
        fields = _fields(rolled)
        rolled.unlink()
        return Settled(
            FirmwareStatus.INSTALLATION_FAILED,
            fields.get("target", "?"),
            fields.get("previous", "?"),
        )
    trial = d / "trial"
    if trial.exists():
        fields = _fields(trial)
        trial.unlink()
        (d / "starts").unlink(missing_ok=True)
        if fields.get("target") == running_name:
            return Settled(FirmwareStatus.INSTALLED, running_name, fields.get("previous", "?"))
    return None


@dataclass(frozen=True, slots=True)
class Job:
    """A persisted UpdateFirmware; `phase` is "pending" until staged, then "staged"."""

    location: str
    retrieve_at: str
    attempts: int
    retry_interval_s: float
    phase: str = "pending"

    @classmethod
    def of(cls, req: UpdateRequest) -> Job:
        return cls(req.location, req.retrieve_at.isoformat(), req.attempts, req.retry_interval_s)

    def request(self) -> UpdateRequest:
        return UpdateRequest(
            self.location,
            datetime.fromisoformat(self.retrieve_at),
            self.attempts,
            self.retry_interval_s,
        )


def save_job(state_dir: Path, job: Job) -> None:
    _write(firmware_dir(state_dir) / "job.json", json.dumps(asdict(job)))


def load_job(state_dir: Path) -> Job | None:
    path = firmware_dir(state_dir) / "job.json"
    try:
        return Job(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: forget it rather than fail every start
        return None


def drop_job(state_dir: Path) -> None:
    (firmware_dir(state_dir) / "job.json").unlink(missing_ok=True)
