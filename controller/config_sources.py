"""One effective configuration for every command, and where each value came from.

The service gets `CHARGECTL_*` variables from `/etc/default/chargectl` (the unit's
`EnvironmentFile=`); a person running `chargectl status` or `check-config` in a shell does not.
If only the service saw them, `status` would look for the socket in the file's state dir while
the service listens elsewhere ("not running" while it runs). So every command reads the same
environment file first; a variable already set in the process wins, as it does for the service.
"""

from __future__ import annotations

import io
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

ENV_PREFIX = "CHARGECTL_"
ENV_FILE = Path("/etc/default/chargectl")
ENV_FILE_VARIABLE = "CHARGECTL_ENV_FILE"  # tests and unusual installs point elsewhere


def env_file_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_FILE_VARIABLE, str(ENV_FILE)))


def read_env_file(path: Path) -> dict[str, str]:
    """The file's `CHARGECTL_*` assignments; a missing or unreadable file sets nothing."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    values = dotenv_values(stream=io.StringIO(text))
    return {k: v for k, v in values.items() if k.startswith(ENV_PREFIX) and v is not None}


def apply_env_file(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Add the environment file's variables that the process does not set; return them."""
    target: Any = os.environ if environ is None else environ
    added = {}
    for key, value in read_env_file(env_file_path(target)).items():
        if key not in target:
            target[key] = value
            added[key] = value
    return added


def _flatten(data: Any, prefix: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], Any]:
    if isinstance(data, dict):
        out: dict[tuple[str | int, ...], Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, (*prefix, k)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        out = {}
        for i, v in enumerate(data):
            out.update(_flatten(v, (*prefix, i)))
        return out
    return {prefix: data}


def _dotted(key: tuple[str | int, ...]) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _lookup(data: Any, key: tuple[str | int, ...]) -> bool:
    for part in key:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False
        elif not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def value_sources(
    effective: Mapping[str, Any],
    file_data: Mapping[str, Any],
    config_path: str,
    environ: Mapping[str, str],
    from_env_file: Mapping[str, str],
    env_file: Path,
) -> dict[str, str]:
    """Dotted key -> where its effective value came from (environment, file or default)."""
    env = {k.upper(): k for k in environ if k.upper().startswith(ENV_PREFIX)}
    out = {}
    for key in _flatten(dict(effective)):
        source = "default"
        # CHARGECTL_OCPP__URL sets ocpp.url; CHARGECTL_CONNECTOR (JSON) sets all of connector.
        names: list[str] = []
        for part in key:
            if not isinstance(part, str):
                break  # a list is set whole, as JSON: nothing inside it has its own variable
            names.append(part)
        for n in range(len(names), 0, -1):
            var = ENV_PREFIX + "__".join(names[:n]).upper()
            if var in env:
                original = env[var]
                in_file = from_env_file.get(original) == environ[original]
                where = f"env file {env_file}" if in_file else "environment"
                source = f"{where}: {original}"
                break
        else:
            if _lookup(file_data, key):
                source = f"file {config_path}"
        out[_dotted(key)] = source
    return out


def read_file_data(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def render_sources(sources: Mapping[str, str]) -> str:
    width = max((len(k) for k in sources), default=0)
    lines = ["where each value came from:"]
    lines.extend(f"  {k:<{width}}  {v}" for k, v in sources.items())
    return "\n".join(lines)


def report_sources(effective: Mapping[str, Any], config_path: str | None) -> str:
    """The `check-config` footer: each effective key and its origin."""
    env_file = env_file_path()
    return render_sources(
        value_sources(
            effective,
            read_file_data(config_path),
            str(config_path),
            os.environ,
            read_env_file(env_file),
            env_file,
        )
    )
