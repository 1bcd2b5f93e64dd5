"""A CSMS on 127.0.0.1 whose answers a test scripts, frame by frame, over a real websocket.

It answers every CALL of the charge point with what `answer(action, payload)` returns: a dict
(the CALLRESULT payload) or a `CallError`. It records every CALL and counts connections.
"""

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import websockets
from websockets.asyncio.server import serve


@dataclass
class CallError:
    code: str = "InternalError"
    description: str = "scripted failure"


def now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def default_answer(action, payload, ids=itertools.count(100)):
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": now_iso(), "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": now_iso()}
    if action == "Authorize":
        return {"idTagInfo": {"status": "Accepted"}}
    if action == "StartTransaction":
        return {"transactionId": next(ids), "idTagInfo": {"status": "Accepted"}}
    if action == "StopTransaction":
        return {"idTagInfo": {"status": "Accepted"}}
    return {}


@dataclass
class ScriptedCsms:
    answer: object = default_answer
    calls: list = field(default_factory=list)  # (action, payload, answer)
    connections: int = 0
    _ws: object = None
    _pending: dict = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self):
        self._server = await serve(
            self._handle, "127.0.0.1", 0, subprotocols=[websockets.Subprotocol("ocpp1.6")]
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/ocpp"
        return self.url

    async def close(self):
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, ws):
        self.connections += 1
        self._ws = ws
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                msg = json.loads(raw)
                if msg[0] == 2:
                    _, mid, action, payload = msg
                    answer = self.answer(action, payload)
                    self.calls.append((action, payload, answer))
                    self._changed.set()
                    if isinstance(answer, CallError):
                        out = [4, mid, answer.code, answer.description, {}]
                    else:
                        out = [3, mid, answer]
                    await ws.send(json.dumps(out))
                elif msg[0] in (3, 4) and msg[1] in self._pending:
                    self._pending.pop(msg[1]).set_result(msg)

    async def call(self, action, payload, timeout_s=10.0):
        """Send a CALL to the charge point; the raw answer frame ([3, ...] or [4, ...])."""
        mid = f"t{len(self._pending)}-{asyncio.get_running_loop().time()}"
        fut = asyncio.get_running_loop().create_future()
        self._pending[mid] = fut
        await self._ws.send(json.dumps([2, mid, action, payload]))
        return await asyncio.wait_for(fut, timeout_s)

    def of(self, action, where=lambda p: True):
        return [(p, a) for act, p, a in self.calls if act == action and where(p)]

    async def wait_for(self, action, where=lambda p: True, timeout_s=20.0, since=0):
        async def poll():
            while True:
                for act, p, a in self.calls[since:]:
                    if act == action and where(p):
                        return p, a
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(poll(), timeout_s)
