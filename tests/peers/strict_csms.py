"""Python side of the independent strict CSMS (tests/peers/ocpp_rpc/csms.js), OCPP 1.6 or 2.0.1.

Starts `node csms.js 0`, reads its JSON-line events and sends it commands. `violations` holds
every schema violation ocpp-rpc saw in either direction and every frame it could not parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "ocpp_rpc"


class CsmsCallError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class StrictCsms:
    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self._proc = proc
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/ocpp"
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @staticmethod
    def available() -> str | None:
        """Why the peer cannot run here, or None."""
        if shutil.which("node") is None:
            return "node is not installed"
        if not (HERE / "node_modules" / "ocpp-rpc").is_dir():
            return "npm packages missing: run `make peers`"
        return None

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, protocol: str = "ocpp1.6") -> AsyncIterator[StrictCsms]:
        """`protocol` is the one subprotocol the CSMS offers: ocpp1.6 or ocpp2.0.1."""
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(HERE / "csms.js"),
            "0",
            protocol,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        first = json.loads(line)
        assert first["event"] == "listening", first
        csms = cls(proc, int(first["port"]))
        try:
            yield csms
        finally:
            with contextlib.suppress(Exception):
                await csms._send({"cmd": "stop"})
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            csms._reader.cancel()

    async def _read(self) -> None:
        assert self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def _send(self, cmd: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self._proc.stdin.drain()

    async def wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, since: int = 0
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for e in self.events[since:]:
                    if predicate(e):
                        return e
                await self._changed.wait()

    async def _command(self, cmd: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        cid = next(self._ids)
        await self._send({**cmd, "id": cid})
        return await self.wait_event(
            lambda e: e.get("id") == cid and e["event"] in ("ok", "response", "error"), timeout
        )

    async def wait_connected(self, identity: str, timeout: float = 20, since: int = 0) -> None:
        await self.wait_event(
            lambda e: e["event"] == "connected" and e["identity"] == identity, timeout, since
        )

    async def call(
        self,
        identity: str,
        action: str,
        payload: dict[str, Any],
        timeout: float = 30,
        peer_timeout_ms: int | None = None,
    ) -> dict[str, Any]:
        """`peer_timeout_ms`: how long ocpp-rpc itself waits for the answer (its default is
        60 s, and its next call waits behind this one)."""
        cmd = {"cmd": "call", "identity": identity, "action": action, "payload": payload}
        if peer_timeout_ms is not None:
            cmd["timeoutMs"] = peer_timeout_ms
        e = await self._command(cmd, timeout)
        if e["event"] == "error":
            raise CsmsCallError(e["code"], e["message"])
        result: dict[str, Any] = e["result"]
        return result

    async def wait_for_call(
        self,
        action: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda p: True,
        timeout: float = 30,
        since: int = 0,
    ) -> dict[str, Any]:
        return await self.wait_event(
            lambda e: e["event"] == "call" and e["action"] == action and predicate(e["payload"]),
            timeout,
            since,
        )

    def calls(self, action: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["event"] == "call" and (action is None or e["action"] == action)
        ]

    def answered(self, action: str | None = None) -> list[dict[str, Any]]:
        """The calls this CSMS answered (a muted CSMS receives calls but answers none)."""
        ids = {e["messageId"] for e in self.events if e["event"] == "answered"}
        return [c for c in self.calls(action) if c["messageId"] in ids]

    @property
    def violations(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] in ("strictValidationFailure", "badCall")]

    async def set_response(
        self, action: str, payload: dict[str, Any], id_tag: str | None = None
    ) -> None:
        """Answer `action` with `payload` from now on; with `id_tag`, only calls for that tag."""
        cmd = {"cmd": "setResponse", "action": action, "payload": payload}
        if id_tag is not None:
            cmd["idTag"] = id_tag
        await self._command(cmd)

    async def set_password(self, password: str | None) -> None:
        await self._command({"cmd": "setAuth", "password": password})

    async def close_connection(self, identity: str) -> None:
        await self._command({"cmd": "close", "identity": identity})

    async def mute(self, identity: str, on: bool = True) -> None:
        await self._command({"cmd": "mute", "identity": identity, "on": on})
