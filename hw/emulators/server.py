"""Starting and stopping a pymodbus server for one or more emulated devices."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmulatorServer:
    def __init__(self, devices: list[Any]) -> None:
        self._devices = devices
        self._server: Any = None
        self._task: asyncio.Task[Any] | None = None
        self.port: int | None = None

    async def start_tcp(self, port: int = 0) -> int:
        from pymodbus.server import ModbusTcpServer

        self.port = port or free_port()
        self._server = ModbusTcpServer(
            [d.sim_device() for d in self._devices], address=("127.0.0.1", self.port)
        )
        await self._serve()
        return self.port

    async def start_serial(self, path: str, baudrate: int = 9600, parity: str = "N") -> None:
        from pymodbus import FramerType
        from pymodbus.server import ModbusSerialServer

        self._server = ModbusSerialServer(
            [d.sim_device() for d in self._devices],
            framer=FramerType.RTU,
            port=path,
            baudrate=baudrate,
            parity=parity,
            timeout=0.1,
        )
        await self._serve()

    async def _serve(self) -> None:
        self._task = asyncio.create_task(self._server.serve_forever())
        await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.shutdown()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        self._server = None
