"""`chargectl status`: ask the running service what it is doing, over a Unix socket.

The service answers one JSON document per connection on `<state dir>/control.sock` (a socket
file, nothing written to the SD card). The document is built by the service at the moment of the
request; this module only serves it and renders it for a person.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


class StatusServer:
    """Serves `snapshot()` as JSON to every client that connects."""

    def __init__(self, path: Path, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._path = path
        self._snapshot = snapshot
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._server = await asyncio.start_unix_server(self._handle, path=str(self._path))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            body = json.dumps(self._snapshot(), default=str).encode()
            writer.write(body)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


def fetch_status(path: Path, timeout_s: float = 5.0) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(str(path))
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    data: dict[str, Any] = json.loads(b"".join(chunks))
    return data


def render(status: dict[str, Any]) -> str:
    lines = []
    link = status.get("csms", {})
    lines.append(
        f"chargectl {status.get('version', '?')}  pid {status.get('pid', '?')}  "
        f"up {status.get('uptime_s', 0):.0f} s"
    )
    lines.append(f"CSMS: {link.get('url', '?')}  link: {link.get('state', '?')}")
    for c in status.get("connectors", []):
        lines.append("")
        lines.append(
            f"connector {c['id']}: {c.get('ocpp_status', '?')}  car state {c.get('cp_state', '?')}"
            f"  driver {c.get('driver', '?')}"
        )
        lines.append(
            f"  offered {_amps(c.get('offered_a'))}   drawn {_amps(c.get('drawn_a'))}   "
            f"energy {_num(c.get('energy_wh'), 'Wh')}"
        )
        lim = c.get("limit") or {}
        src = lim.get("source")
        who = (
            f"profile {src['profile_id']} ({src['purpose']}, stack level {src['stack_level']})"
            if src
            else "no profile (connector maximum)"
        )
        nxt = lim.get("next_change")
        lines.append(
            f"  limit {_amps(lim.get('value'))} set by {who}"
            + (f", next change {nxt}" if nxt else "")
        )
        tx = c.get("transaction")
        if tx:
            tid = tx.get("transaction_id")
            lines.append(
                f"  transaction {tid if tid is not None else '(id pending)'}  "
                f"id tag {tx.get('id_tag')}  since {tx.get('start')}"
            )
        else:
            lines.append("  no transaction")
        if c.get("fault"):
            lines.append(f"  FAULT: {c['fault']}")
        if c.get("pause_reason"):
            lines.append(f"  held back: {c['pause_reason']}")
    profiles = status.get("profiles", [])
    lines.append("")
    lines.append(f"installed profiles: {len(profiles)}")
    for p in profiles:
        lines.append(
            f"  id {p['id']}  connector {p['connector_id']}  {p['purpose']}  "
            f"stack level {p['stack_level']}  {p['kind']}"
        )
    return "\n".join(lines)


def _amps(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f} A"


def _num(value: Any, unit: str) -> str:
    return "-" if value is None else f"{float(value):.0f} {unit}"


def status_command(args: argparse.Namespace) -> int:
    from controller.config import EX_CONFIG, ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    path = socket_path(settings.state.dir)
    try:
        status = fetch_status(path)
    except FileNotFoundError:
        print(
            f"chargectl is not running (no {path}). Start it: systemctl start chargectl; "
            "see why it stopped: journalctl -u chargectl -e",
            file=sys.stderr,
        )
        return 3
    except PermissionError:
        print(
            f"no permission to read {path}: run as root or as a member of group evse",
            file=sys.stderr,
        )
        return 4
    except (OSError, ValueError) as exc:
        print(f"chargectl did not answer on {path}: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(render(status))
    return 0
