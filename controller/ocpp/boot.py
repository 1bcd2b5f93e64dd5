"""BootNotification once per power-up, the statuses after it, then heartbeats and the queue.

A reconnect after an Accepted boot does not boot again. The heartbeat interval is the one the
boot answer gave (stored as HeartbeatInterval), changed at once by ChangeConfiguration.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus

from controller.ocpp.core import Core, LinkState
from controller.ocpp.delivery import Delivery
from controller.ocpp.ports import Caller
from controller.ocpp.statuses import Statuses

log = logging.getLogger(__name__)

# How long a Pending or Rejected boot waits at least before the next BootNotification.
MIN_BOOT_RETRY_S = 5


class Boot:
    def __init__(self, core: Core, statuses: Statuses, delivery: Delivery) -> None:
        self._core = core
        self._statuses = statuses
        self._delivery = delivery
        self.clock_offset_s = 0.0
        self.boots_sent = 0
        self._retry_s = 30

    async def boot_once(self, caller: Caller) -> str:
        s = self._core.settings
        resp = await caller.call(
            call.BootNotification(
                charge_point_model=s.model,
                charge_point_vendor=s.vendor,
                charge_point_serial_number=s.serial_number,
                firmware_version=s.firmware_version,
            ),
            suppress=False,
        )
        self.boots_sent += 1
        self._set_clock(resp.current_time)
        if resp.interval:
            self._retry_s = int(resp.interval)
        status = str(resp.status)
        self._core.boot_status = status
        if status == RegistrationStatus.accepted and resp.interval:
            self._core.keys.change("HeartbeatInterval", str(int(resp.interval)))
        return status

    def _set_clock(self, current_time: str | None) -> None:
        if not current_time:
            return
        try:
            csms = datetime.fromisoformat(current_time.replace("Z", "+00:00"))
        except ValueError:
            return
        if csms.tzinfo is None:
            return
        self.clock_offset_s = (csms - self._core.clock.now()).total_seconds()
        if abs(self.clock_offset_s) > 2:
            log.warning("our clock is %.0f s off the CSMS's", -self.clock_offset_s)

    async def session_main(self, caller: Caller) -> None:
        c = self._core
        if c.boot_status != RegistrationStatus.accepted:
            c.link_state = LinkState.BOOTING
            while await self.boot_once(caller) != RegistrationStatus.accepted:
                pending = c.boot_status == RegistrationStatus.pending
                c.link_state = LinkState.PENDING if pending else LinkState.REJECTED
                await c.timers.sleep(max(MIN_BOOT_RETRY_S, self._retry_s))
            log.info("BootNotification accepted")
            self._delivery.security_event("StartupOfTheDevice", None)
            if c.maintenance is not None:
                c.maintenance.boot_accepted()  # a release on trial is now confirmed
        c.session = caller
        c.watch.link_up(c.clock.monotonic())
        c.link_state = LinkState.BOOTED
        self._statuses.link_up()
        for cid in [0, *c.hardware.connector_ids]:
            await self._statuses.send(caller, cid, force=True)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._delivery.run(caller))
            tg.create_task(self.heartbeats(caller))

    async def heartbeat(self, caller: Caller) -> None:
        resp = await caller.call(call.Heartbeat(), suppress=False)
        self._set_clock(resp.current_time)

    async def heartbeats(self, caller: Caller) -> None:
        c = self._core
        while True:
            interval = c.keys.get_int("HeartbeatInterval")
            c.heartbeat_changed.clear()
            if await c.timers.wait(c.heartbeat_changed, interval if interval > 0 else None):
                continue
            await self.heartbeat(caller)
