"""One Modbus line (an RS-485 bus or a TCP connection), shared by every board and meter on it.

Requests are serialised with a lock and separated by the slowest device's gap (EVSE-DIN boards
drop frames that follow too closely); writes go before reads that are still waiting, so a new
limit waits at most for the request on the wire and one gap. Each request waits at most
`timeout_s`, so one dead device cannot stall the control loop. pymodbus does not reconnect a
client that never connected, so every request reconnects when needed: a USB adapter that was
unplugged and comes back is picked up again. Every failure becomes a `hw.errors` exception;
pymodbus's own never escape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from hw.errors import DriverIOError, DriverTimeout, HardwareError
from hw.priority_lock import PriorityLock

_WRITE, _READ = 0, 1  # lock priorities: writes first

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

SERIAL_FIX = (
    "check the device path (ls -l /dev/serial/by-id/), the RS-485 wiring (A/B, termination) "
    "and that the service user is in group dialout"
)
TCP_FIX = (
    "check host and tcp_port, that the device or gateway is on the network (ping it) and that "
    "its Modbus TCP server is enabled"
)


class ModbusBus:
    def __init__(
        self,
        *,
        port: str | None = None,
        host: str | None = None,
        tcp_port: int = 502,
        baudrate: int = 9600,
        parity: str = "N",
        timeout_s: float = 0.5,
        retries: int = 1,
        gap_s: float = 0.1,
        rtu_over_tcp: bool = False,
    ) -> None:
        from pymodbus import FramerType
        from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

        if (port is None) == (host is None):
            raise ValueError("a Modbus bus needs exactly one of port (RTU) or host (TCP)")
        self.name = port or f"{host}:{tcp_port}"
        self._fix = SERIAL_FIX if port is not None else TCP_FIX
        self.gap_s = gap_s
        self._lock = PriorityLock()
        self._last = 0.0
        self._users = 0
        self.requests = 0  # sent on the line since start, for budgets and tests
        self.client: Any
        if port is not None:
            self.client = AsyncModbusSerialClient(
                port,
                framer=FramerType.RTU,
                baudrate=baudrate,
                parity=parity,
                bytesize=8,
                stopbits=1,
                timeout=timeout_s,
                retries=retries,
                reconnect_delay=0.2,
                reconnect_delay_max=2.0,
            )
        else:
            assert host is not None
            self.client = AsyncModbusTcpClient(
                host,
                port=tcp_port,
                framer=FramerType.RTU if rtu_over_tcp else FramerType.SOCKET,
                timeout=timeout_s,
                retries=retries,
                reconnect_delay=0.2,
                reconnect_delay_max=2.0,
            )

    def acquire(self) -> None:
        self._users += 1

    def release(self) -> None:
        self._users -= 1
        if self._users <= 0:
            self.close()

    async def _ensure_connected(self) -> None:
        if self.client.connected:
            return
        try:
            ok = await self.client.connect()
        except OSError as exc:
            raise DriverIOError(f"Modbus {self.name}: cannot open: {exc}; {self._fix}") from exc
        if not ok:
            raise DriverIOError(f"Modbus {self.name}: cannot connect; {self._fix}")

    async def _take_line(self, priority: int) -> None:
        """Hold the line once its gap has passed; a read waiting out the gap lets a write in."""
        while True:
            await self._lock.acquire(priority)
            wait = self._last + self.gap_s - time.monotonic()
            if wait <= 0:
                return
            if priority == _WRITE:
                try:  # nothing goes before a write: wait out the gap holding the line
                    await asyncio.sleep(wait)
                except BaseException:
                    self._lock.release()
                    raise
                return
            self._lock.release()
            await asyncio.sleep(wait)

    async def _request(self, what: str, priority: int, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

        await self._take_line(priority)
        try:
            await self._ensure_connected()
            self.requests += 1
            result = await fn(*args, **kwargs)
        except HardwareError:
            raise
        except ModbusIOException as exc:
            raise DriverTimeout(f"Modbus {self.name}: {what}: no answer ({exc})") from exc
        except ConnectionException as exc:
            raise DriverIOError(f"Modbus {self.name}: {what}: not connected ({exc})") from exc
        except ModbusException as exc:
            raise DriverIOError(f"Modbus {self.name}: {what}: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise DriverIOError(f"Modbus {self.name}: {what}: {exc}") from exc
        finally:
            self._last = time.monotonic()
            self._lock.release()
        if result.isError():
            code = getattr(result, "exception_code", "?")
            raise DriverIOError(f"Modbus {self.name}: {what}: device answered exception {code}")
        return result

    async def read_holding(self, address: int, count: int, device_id: int) -> list[int]:
        r = await self._request(
            f"read holding {address}+{count} of device {device_id}",
            _READ,
            self.client.read_holding_registers,
            address,
            count=count,
            device_id=device_id,
        )
        return list(r.registers)

    async def read_input(self, address: int, count: int, device_id: int) -> list[int]:
        r = await self._request(
            f"read input {address}+{count} of device {device_id}",
            _READ,
            self.client.read_input_registers,
            address,
            count=count,
            device_id=device_id,
        )
        return list(r.registers)

    async def write_registers(self, address: int, values: list[int], device_id: int) -> None:
        await self._request(
            f"write {address}={values} to device {device_id}",
            _WRITE,
            self.client.write_registers,
            address,
            values,
            device_id=device_id,
        )

    async def write_coil(self, address: int, value: bool, device_id: int) -> None:
        await self._request(
            f"write coil {address}={value} to device {device_id}",
            _WRITE,
            self.client.write_coil,
            address,
            value,
            device_id=device_id,
        )

    def close(self) -> None:
        # Closing a dead port must not mask the error that brought us here.
        with contextlib.suppress(Exception):
            self.client.close()
