"""What the charge point answers to the central system's requests, in the library's enums.

`Session` only parses and routes; the decisions are here, on the station model. Whatever must
follow an answer (a reset, a triggered message) runs as a supervised background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call
from ocpp.v16.enums import (
    AvailabilityStatus,
    AvailabilityType,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    RemoteStartStopStatus,
    TriggerMessageStatus,
    UnlockStatus,
)

from controller.ocpp.boot import Boot
from controller.ocpp.core import Core, utc_iso
from controller.ocpp.meter_loop import Metering
from controller.ocpp.statuses import Statuses
from controller.ocpp.tx_flow import TransactionFlow
from controller.smart_charging import SetResult
from controller.station import EventKind, StationEvent, StopReason
from hw.base import CpState

if TYPE_CHECKING:
    from controller.ocpp.ports import MaintenancePort

log = logging.getLogger(__name__)

_TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    }
)
_METER_KEYS = frozenset({"MeterValueSampleInterval", "ClockAlignedDataInterval"})

Accepted = RemoteStartStopStatus.accepted
Rejected = RemoteStartStopStatus.rejected


class Handlers:
    """The charge point's side of the CSMS's requests (implements `ports.SessionHost`)."""

    def __init__(
        self,
        core: Core,
        flow: TransactionFlow,
        statuses: Statuses,
        boot: Boot,
        metering: Metering,
    ) -> None:
        self._core = core
        self._flow = flow
        self._statuses = statuses
        self._boot = boot
        self._metering = metering
        self.frames_received = 0
        self.frames_rejected = 0
        self.frames_sent = 0
        self.last_received_at: datetime | None = None
        self.last_sent_at: datetime | None = None
        self.first_sent = asyncio.Event()
        """Set once the first frame (the BootNotification) has gone out: what may wait starts."""

    @property
    def maintenance(self) -> MaintenancePort | None:
        return self._core.maintenance

    def frame_counted(self, accepted: bool) -> None:
        if accepted:
            self.frames_received += 1
            self.last_received_at = self._core.now()
        else:
            self.frames_rejected += 1

    def frame_sent(self) -> None:
        self.frames_sent += 1
        self.last_sent_at = self._core.now()
        self.first_sent.set()

    def remote_start(
        self, id_tag: str, connector_id: int | None, profile: dict[str, Any] | None
    ) -> RemoteStartStopStatus:
        c = self._core
        ids = list(c.hardware.connector_ids)
        if connector_id is None:
            if profile is not None:
                return Rejected  # R14: a profile needs a connector to bind to
            free = [x for x in ids if x not in c.book and c.connectors.operative(x)]
            if not free:
                return Rejected
            plugged = [x for x in free if c.hardware.snapshot(x).status.cp_state is not CpState.A]
            connector_id = (plugged or free)[0]
        if connector_id not in ids or connector_id in c.book:
            return Rejected
        if not c.connectors.operative(connector_id):
            return Rejected
        if profile is not None:
            check = c.profiles.check_remote_start_profile(connector_id, profile, c.now())
            if not check.accepted:
                log.warning("RemoteStartTransaction refused: %s", check.reason)
                return Rejected
        self._flow.authorize(connector_id, id_tag, profile)
        return Accepted

    def remote_stop(self, transaction_id: int) -> RemoteStartStopStatus:
        cid = self._core.book.by_transaction_id(transaction_id)
        if cid is None:
            return Rejected
        self._flow.stop(cid, StopReason.REMOTE)
        return Accepted

    def set_charging_profile(self, connector_id: int, profile: dict[str, Any]) -> SetResult:
        result = self._core.profiles.set_charging_profile(connector_id, profile, self._core.now())
        if not result.accepted:
            log.info("SetChargingProfile refused: %s", result.reason or result.call_error)
        return result

    def clear_charging_profile(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> ClearChargingProfileStatus:
        return ClearChargingProfileStatus(
            self._core.profiles.clear_charging_profile(
                profile_id=profile_id,
                connector_id=connector_id,
                purpose=purpose,
                stack_level=stack_level,
            )
        )

    def composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None:
        c = self._core
        return c.profiles.composite_schedule(connector_id, c.now(), duration_s, unit)

    def change_availability(self, connector_id: int, kind: str) -> AvailabilityStatus:
        c = self._core
        ids = list(c.hardware.connector_ids)
        if connector_id != 0 and connector_id not in ids:
            return AvailabilityStatus.rejected
        operative = kind == AvailabilityType.operative
        scheduled = False
        for cid in ids if connector_id == 0 else [connector_id]:
            if not operative and cid in c.book:
                c.connectors.schedule(cid, False)
                scheduled = True
            else:
                c.connectors.schedule(cid, None)
                c.connectors.set_operative(cid, operative)
                c.hardware.set_operative(cid, operative)
                c.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
        return AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted

    def change_configuration(self, key: str, value: str) -> ConfigurationStatus:
        status = self._core.keys.change(key, value)
        if status in (ConfigurationStatus.accepted, ConfigurationStatus.reboot_required):
            if key == "HeartbeatInterval":
                self._core.heartbeat_changed.set()
            if key in _METER_KEYS:
                self._metering.wake.set()
        return status

    def configuration(self, keys: list[str] | None) -> tuple[list[dict[str, object]], list[str]]:
        return self._core.keys.listing(keys)

    async def unlock(self, connector_id: int) -> UnlockStatus:
        c = self._core
        if connector_id not in c.hardware.connector_ids:
            return UnlockStatus.not_supported
        if not await c.hardware.unlock_connector(connector_id):
            return UnlockStatus.not_supported
        self._flow.stop(connector_id, StopReason.UNLOCK_COMMAND)
        return UnlockStatus.unlocked

    def reset_later(self, kind: str) -> None:
        self._core.spawn(self.do_reset(kind), "reset")

    async def do_reset(self, kind: str) -> None:
        c = self._core
        reason = StopReason.HARD_RESET if kind == "Hard" else StopReason.SOFT_RESET
        for cid in c.book:
            self._flow.stop(cid, reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while c.db.pending() and c.session is not None:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        await c.hardware.reset(kind)

    def trigger_status(self, message: str, connector_id: int | None) -> TriggerMessageStatus:
        if connector_id is not None and connector_id not in (
            0,
            *self._core.hardware.connector_ids,
        ):
            return TriggerMessageStatus.rejected
        if message in _TRIGGERABLE:
            return TriggerMessageStatus.accepted
        return TriggerMessageStatus.not_implemented

    def trigger_later(self, message: str, connector_id: int | None) -> None:
        if self.trigger_status(message, connector_id) == TriggerMessageStatus.accepted:
            self._core.spawn(self.send_triggered(message, connector_id), "trigger")

    async def send_triggered(self, message: str, connector_id: int | None) -> None:
        c = self._core
        caller = c.session
        if caller is None:
            return
        ids = [connector_id] if connector_id else list(c.hardware.connector_ids)
        if message == "BootNotification":
            await self._boot.boot_once(caller)
        elif message == "Heartbeat":
            await self._boot.heartbeat(caller)
        elif message == "StatusNotification":
            for cid in [0, *ids] if connector_id is None else ids:
                await self._statuses.send(caller, cid, force=True)
        elif message == "MeterValues":
            for cid in ids:
                values = self._metering.sampled_values(cid, "MeterValuesSampledData", "Trigger")
                tx = c.book.get(cid)
                req = call.MeterValues(
                    connector_id=cid,
                    meter_value=[{"timestamp": utc_iso(c.now()), "sampled_value": values}],
                    transaction_id=None if tx is None else tx.transaction_id,
                )
                await caller.call(req, suppress=False)
        elif message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            m = c.maintenance
            status = "Idle" if m is None else m.current_status(message)
            await caller.call(getattr(call, message)(status=status), suppress=False)
