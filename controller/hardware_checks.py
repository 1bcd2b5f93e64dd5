"""The last `chargectl check-hw` results, kept in `state.dir/check-hw.json` for the dashboard.

check-hw runs while the service is stopped (they would share the devices), so the service
cannot ask it; it reads what the last run left behind instead. The file is replaced by rename,
so a reader sees the old results or the new ones, never half of either. It is made readable by
everyone in the state directory (0644): check-hw usually runs as root, the service does not.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import frozen

from controller.plain_data import InvalidData, make_converter, structure
from hw.probe import ProbeResult

FILE_NAME = "check-hw.json"


@frozen(kw_only=True)
class CheckRow:
    device: str
    ok: bool
    detail: str
    fix: str | None = None


@frozen(kw_only=True)
class HardwareChecks:
    taken_at: datetime
    rows: list[CheckRow]


# Fields a newer check-hw may add are ignored; the ones read here must be right.
_READER = make_converter(forbid_extra_keys=False)


def document(results: list[ProbeResult], taken_at: datetime) -> dict[str, Any]:
    """The file's content for one run; every row carries the run's time too."""
    when = taken_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "taken_at": when,
        "ok": all(r.ok for r in results),
        "rows": [
            {"device": r.name, "ok": r.ok, "detail": r.detail, "fix": r.fix, "taken_at": when}
            for r in results
        ],
    }


def save(state_dir: Path, doc: dict[str, Any]) -> str | None:
    """Write the results atomically; the reason in words when they could not be kept."""
    if not state_dir.is_dir():
        return f"{state_dir} is not a directory (the service creates it when it first starts)"
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".check-hw-", suffix=".tmp", dir=state_dir)
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(json.dumps(doc, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, state_dir / FILE_NAME)
        tmp_name = None
    except OSError as exc:
        return f"cannot write to {state_dir}: {exc.strerror or exc}"
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return None


_cache: dict[Path, tuple[tuple[int, int], dict[str, Any] | None]] = {}


def load(state_dir: Path) -> dict[str, Any] | None:
    """What the status document shows: None when check-hw never saved anything here, the rows
    when the file is good, and an `error` for people when it is not. Read again only when the
    file changed, since the dashboard asks every second."""
    path = state_dir / FILE_NAME
    try:
        st = path.stat()
    except FileNotFoundError:
        _cache.pop(path, None)
        return None
    except OSError as exc:
        return {"error": f"cannot read {path}: {exc.strerror or exc}"}
    key = (st.st_mtime_ns, st.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        checks = structure(_READER, json.loads(path.read_bytes()), HardwareChecks)
    except OSError as exc:
        return {"error": f"cannot read {path}: {exc.strerror or exc}"}
    except ValueError:  # not JSON at all
        return {"error": f"{path} is not a check-hw result (not JSON)"}
    except InvalidData as exc:
        return {"error": f"{path} is not a check-hw result ({len(exc.errors)} problems)"}
    taken_at = checks.taken_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    value: dict[str, Any] = {
        "taken_at": taken_at,
        "ok": all(r.ok for r in checks.rows),
        "rows": [_READER.unstructure(r) for r in checks.rows],
    }
    _cache[path] = (key, value)
    return value
