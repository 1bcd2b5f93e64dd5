"""`chargectl status`: ask the running service what it is doing, over a Unix socket.

The service answers one JSON document per connection on `<state dir>/control.sock` (a socket
file, nothing written to the SD card). The document is built by the service at the moment of the
request; this module only serves it and renders it for a person.

A client may first send one JSON line, `{"request": "tag", ...}`, to ask for something else
(handlers are registered by the composition root). A client that sends nothing, or shuts its
side down at once, gets the status as before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
SOCKET_MODE = 0o660  # the service user and group evse
REQUEST_WAIT_S = 0.2  # how long a client that says nothing is given before it gets the status
REQUEST_MAX_BYTES = 4096

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


class StatusServer:
    """Serves `snapshot()` as JSON to every client that connects."""

    def __init__(
        self,
        path: Path,
        snapshot: Callable[[], dict[str, Any]],
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self._path = path
        self._snapshot = snapshot
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._server = await asyncio.start_unix_server(
            self._handle, path=str(self._path), limit=REQUEST_MAX_BYTES
        )
        # connect() needs write permission on the socket: with the unit's UMask=0027 it would be
        # 0750 and the evse group, which may read the status, could not connect.
        os.chmod(self._path, SOCKET_MODE)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            answer = await self._answer(reader)
            body = json.dumps(answer, default=str).encode()
            writer.write(body)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_WAIT_S)
        except TimeoutError:
            line = b""  # an old client that only listens
        except ValueError:
            return {"ok": False, "error": f"request longer than {REQUEST_MAX_BYTES} bytes"}
        if not line.strip():
            return self._snapshot()
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "the request is not one line of JSON"}
        kind = request.get("request", "status") if isinstance(request, dict) else None
        if kind == "status":
            return self._snapshot()
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            known = ", ".join(["status", *self._handlers])
            return {"ok": False, "error": f"unknown request {kind!r}; one of {known}"}
        try:
            return await handler(request)
        except Exception as exc:  # the client gets an answer, the service carries on
            log.exception("control request %r failed", kind)
            return {"ok": False, "error": f"the service failed to handle it: {exc}"}

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


def fetch_status(path: Path, timeout_s: float = 5.0) -> dict[str, Any]:
    return request_service(path, None, timeout_s)


def request_service(
    path: Path, request: dict[str, Any] | None, timeout_s: float = 5.0
) -> dict[str, Any]:
    """One request to the running service (None: the status); its JSON answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(str(path))
        if request is not None:
            s.sendall(json.dumps(request).encode() + b"\n")
        s.shutdown(socket.SHUT_WR)  # said all: the service answers at once
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
    if "last_sent" in link:  # a service from before these fields prints none of them
        lines.append(
            f"  last sent {link['last_sent'] or 'nothing yet'}, "
            f"last received {link.get('last_received') or 'nothing yet'}"
        )
    for e in (link.get("security_events") or [])[-3:]:
        repeats = f" ({e['count']} times)" if e.get("count", 1) > 1 else ""
        lines.append(f"  security event {e['time']} {e['kind']}{repeats}")
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
        if c.get("limit_explanation"):
            lines.append(f"  offer set by {c['limit_explanation']}")
        ps = c.get("phase_switch")
        if ps:
            lines.append(
                f"  phases: {c.get('phases_in_use')} in use, {ps.get('wanted')} wanted "
                f"({ps.get('reason')}), {ps.get('switches')} switch(es)"
                + (f"; {ps['last_result']}" if ps.get("last_result") else "")
            )
        res = c.get("reservation")
        if res:
            lines.append(
                f"  reserved for {res['id_tag']} until {res['expiry']}"
                f" (reservation {res['reservation_id']})"
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
            kind = f" ({c['fault_kind']})" if c.get("fault_kind") else ""
            lines.append(f"  FAULT{kind}: {c['fault']}")
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


def status_state_dir(config_path: str | None) -> tuple[Path, str | None]:
    """Where the service keeps its socket, from what a group member may read.

    `status` needs nothing but the socket: the configuration is 0640 root:evse, and a person
    outside that group (or a broken file) must still learn where the service is looked for.
    Returns the directory and, when the file could not be used, a note saying why.
    """
    import tomllib

    from controller.config import ConfigError, StateSection, load_settings

    try:
        return load_settings(config_path).state.dir, None
    except ConfigError:
        pass  # unreadable or invalid elsewhere: the state dir alone may still be known
    env = os.environ.get("CHARGECTL_STATE__DIR")
    if env:
        return Path(env), None
    if config_path is None:
        return StateSection().dir, None
    try:
        with Path(config_path).open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return StateSection().dir, f"{config_path} does not exist"
    except PermissionError:
        return StateSection().dir, f"cannot read {config_path} (permission denied)"
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return StateSection().dir, f"cannot use {config_path}: {exc}"
    state = data.get("state")
    value = state.get("dir") if isinstance(state, dict) else None
    if isinstance(value, str) and value:
        return Path(value), None
    return StateSection().dir, None


def status_command(args: argparse.Namespace) -> int:
    state_dir, note = status_state_dir(args.config)
    path = socket_path(state_dir)
    looked = f" (looked in the default state dir: {note})" if note else ""
    try:
        status = fetch_status(path)
    except (FileNotFoundError, ConnectionRefusedError):
        print(
            f"chargectl is not running (nothing listens on {path}){looked}. "
            "Start it: sudo systemctl start chargectl; "
            "see why it stopped: journalctl -u chargectl -e",
            file=sys.stderr,
        )
        return 3
    except PermissionError:
        print(
            f"no permission to connect to {path}: add yourself to group evse "
            f"(sudo usermod -aG evse $USER, then log in again) or use sudo",
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
