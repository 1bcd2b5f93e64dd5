"""BootNotification once per power-up, the statuses after it, then heartbeats and the queue.

A reconnect after an Accepted boot does not boot again; a Pending or Rejected boot is retried
after the interval the CSMS gave (B02, B03). The heartbeat interval is the boot answer's,
kept as OCPPCommCtrlr.HeartbeatInterval.
"""

from __future__ import annotations

import asyncio
import logging

from ocpp.v201 import call

from controller.ocpp.core import LinkState
from controller.ocpp201 import variables as v
from controller.ocpp201.context import Context
from controller.ocpp201.delivery import Delivery
from controller.ocpp201.session import Session201
from controller.ocpp201.statuses import Statuses

log = logging.getLogger(__name__)

MIN_BOOT_RETRY_S = 5
# Why the station booted, when it knows (a reset the CSMS asked for), kept across the restart.
BOOT_REASON_KEY = "_boot_reason"


class Boot:
    def __init__(self, ctx: Context, statuses: Statuses, delivery: Delivery) -> None:
        self._ctx = ctx
        self._statuses = statuses
        self._delivery = delivery
        self.boots_sent = 0
        self.reason = ctx.db.config_items().get(BOOT_REASON_KEY) or "PowerUp"
        self._retry_s = MIN_BOOT_RETRY_S

    async def boot_once(self, caller: Session201) -> str:
        s = self._ctx.settings
        station = {
            "model": s.model,
            "vendor_name": s.vendor,
            "firmware_version": s.firmware_version,
        }
        if s.serial_number:
            station["serial_number"] = s.serial_number
        resp = await caller.call(
            call.BootNotification(charging_station=station, reason=self.reason), suppress=False
        )
        self.boots_sent += 1
        status = str(resp.status)
        self._ctx.boot_status = status
        if status == "Accepted" and resp.interval:
            self._ctx.variables.put(v.HEARTBEAT_INTERVAL, str(int(resp.interval)))
        self._retry_s = max(MIN_BOOT_RETRY_S, int(resp.interval or 0))
        return status

    async def session_main(self, caller: Session201) -> None:
        c = self._ctx
        if c.boot_status != "Accepted":
            c.link_state = LinkState.BOOTING
            while await self.boot_once(caller) != "Accepted":
                c.link_state = (
                    LinkState.PENDING if c.boot_status == "Pending" else LinkState.REJECTED
                )
                await c.timers.sleep(self._retry_s)
            log.info("BootNotification accepted (OCPP 2.0.1)")
            c.security_event("StartupOfTheDevice", None)
            if c.maintenance is not None:
                c.maintenance.boot_accepted()  # a release on trial is now confirmed
            if self.reason != "PowerUp":
                c.db.set_config(BOOT_REASON_KEY, "")
        c.session = caller
        c.watch.link_up(c.clock.monotonic())
        c.link_state = LinkState.BOOTED
        self._statuses.link_up()
        for cid in c.hardware.connector_ids:
            await self._statuses.send(caller, cid, force=True)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._delivery.run(caller))
            tg.create_task(self.heartbeats(caller))

    async def heartbeats(self, caller: Session201) -> None:
        c = self._ctx
        while True:
            interval = c.variables.get_int(v.HEARTBEAT_INTERVAL)
            c.heartbeat_changed.clear()
            if await c.timers.wait(c.heartbeat_changed, interval if interval > 0 else None):
                continue
            await caller.call(call.Heartbeat(), suppress=False)
