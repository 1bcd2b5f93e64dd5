"""A charger under hostile GetCompositeSchedule requests, with the longest event-loop stall
measured while they are answered. Shared by `make bench` and the fault tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from controller.app import Charger
from controller.config import make_settings

CP = "HOSTILE1"
DURATION_MAX_S = 2**31 - 1


def recurring_profile(pid: int, stack: int, purpose: str) -> dict[str, Any]:
    """A daily profile of 24 periods with its own limits and offsets, so nothing merges."""
    periods = [
        {"startPeriod": 0 if h == 0 else h * 3600 + pid * 37, "limit": 6 + (pid * 5 + h * 3) % 26}
        for h in range(24)
    ]
    return {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "chargingSchedule": {
            "startSchedule": f"2024-01-01T00:{pid:02d}:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": periods,
        },
    }


# Nine profiles (MaxChargingProfilesInstalled is 10) on every layer the composite stacks.
PROFILES = [
    (0, recurring_profile(1, 0, "ChargePointMaxProfile")),
    *((0, recurring_profile(2 + i, 1 + i, "TxDefaultProfile")) for i in range(4)),
    *((1, recurring_profile(6 + i, 5 + i, "TxDefaultProfile")) for i in range(4)),
]


@dataclass
class StallMonitor:
    """Wakes every millisecond; the longest gap beyond that is the worst stall."""

    longest_s: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest_s = max(self.longest_s, now - last - 0.001)
            last = now

    def start(self) -> None:
        self.longest_s = 0.0
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.longest_s


class _Csms:
    """Raw frames: answers the charger's CALLs minimally, hands its answers to `call`."""

    def __init__(self) -> None:
        self.ws: Any = None
        self.ready = asyncio.Event()
        self.replies: asyncio.Queue[tuple[list[Any], int]] = asyncio.Queue()

    async def handler(self, ws: Any) -> None:
        self.ws = ws
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in ws:
                msg = json.loads(text)
                if msg[0] != 2:
                    await self.replies.put((msg, len(text)))
                    continue
                payload: dict[str, Any] = {}
                if msg[2] == "BootNotification":
                    payload = {"status": "Accepted", "currentTime": _now(), "interval": 300}
                elif msg[2] == "Heartbeat":
                    payload = {"currentTime": _now()}
                elif msg[2] == "StartTransaction":
                    payload = {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}
                elif msg[2] == "StatusNotification" and msg[3]["status"] == "Charging":
                    self.ready.set()
                await ws.send(json.dumps([3, msg[1], payload]))

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[list[Any], int]:
        await self.ws.send(json.dumps([2, f"{action}-{time.monotonic_ns()}", action, payload]))
        return await asyncio.wait_for(self.replies.get(), 300)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class HostileResult:
    longest_stall_s: float
    idle_stall_s: float
    largest_reply_bytes: int
    replies: list[list[Any]]


async def composite_under_attack(requests: int = 4) -> HostileResult:
    """Install nine daily profiles in a running transaction, then ask for composites of
    2^31-1 s on both connectors and both units; the stall covers the whole exchange."""
    csms = _Csms()
    server = await websockets.serve(
        csms.handler,
        "127.0.0.1",
        0,
        max_size=None,
        subprotocols=[websockets.Subprotocol("ocpp1.6")],
    )
    port = server.sockets[0].getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        charger = Charger(
            make_settings(
                ocpp={
                    "url": f"ws://127.0.0.1:{port}/ocpp",
                    "charge_point_id": CP,
                    "free_vend_id_tag": "FREE",
                },
                state={"dir": Path(tmp)},
                connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
                simulator={"ev_response_s": 0.1},
                log_level="warning",
            )
        )
        task = asyncio.create_task(charger.run())
        try:
            await asyncio.wait_for(csms.ready.wait(), 60)
            for connector_id, profile in PROFILES:
                reply, _ = await csms.call(
                    "SetChargingProfile",
                    {"connectorId": connector_id, "csChargingProfiles": profile},
                )
                assert reply[2] == {"status": "Accepted"}, reply
            monitor = StallMonitor()
            monitor.start()
            started = time.perf_counter()
            replies: list[list[Any]] = []
            largest = 0
            for i in range(requests):
                reply, size = await csms.call(
                    "GetCompositeSchedule",
                    {
                        "connectorId": i % 2,
                        "duration": DURATION_MAX_S,
                        "chargingRateUnit": "A" if i % 4 < 2 else "W",
                    },
                )
                replies.append(reply)
                largest = max(largest, size)
            stall = await monitor.stop()
            # The same charger left alone for as long: what the machine itself adds.
            monitor.start()
            await asyncio.sleep(max(0.5, time.perf_counter() - started))
            idle = await monitor.stop()
        finally:
            charger.stop()
            await asyncio.wait_for(task, 30)
            server.close()
    return HostileResult(stall, idle, largest, replies)
