"""What the charge point answers to the central system's requests, in the library's enums.

`Session` only parses and routes; the decisions are here, on the station model. Whatever must
follow an answer (a reset, a triggered message) runs as a supervised background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call
from ocpp.v16.enums import (
    AvailabilityStatus,
    AvailabilityType,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
    TriggerMessageStatus,
    UnlockStatus,
)

from controller.frame_counts import FrameCounts
from controller.ocpp.boot import Boot
from controller.ocpp.cards import Cards
from controller.ocpp.core import Core, utc_iso
from controller.ocpp.feature_profiles import FeatureProfile
from controller.ocpp.meter_loop import Metering
from controller.ocpp.statuses import Statuses
from controller.ocpp.tx_flow import TransactionFlow
from controller.smart_charging import SetResult
from controller.station import EventKind, StationEvent, StopReason
from hw.base import CpState

if TYPE_CHECKING:
    from controller.ocpp.ports import MaintenancePort, RoutesPort

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
_FIRMWARE_NOTICES = frozenset({"DiagnosticsStatusNotification", "FirmwareStatusNotification"})
_METER_KEYS = frozenset({"MeterValueSampleInterval", "ClockAlignedDataInterval"})

Accepted = RemoteStartStopStatus.accepted
Rejected = RemoteStartStopStatus.rejected


class Handlers(FrameCounts):
    """The charge point's side of the CSMS's requests (implements `ports.SessionHost`)."""

    def __init__(
        self,
        core: Core,
        flow: TransactionFlow,
        statuses: Statuses,
        boot: Boot,
        metering: Metering,
        cards: Cards,
    ) -> None:
        self._core = core
        self._flow = flow
        self._cards = cards
        self._statuses = statuses
        self._boot = boot
        self._metering = metering
        FrameCounts.__init__(self, core.now)
        self.auth_routes: RoutesPort | None = None

    @property
    def maintenance(self) -> MaintenancePort | None:
        return self._core.maintenance

    @property
    def auth(self) -> RoutesPort | None:
        return self.auth_routes

    def boot_answered(self, status: str) -> None:
        self._core.boot_status = status
        if status == RegistrationStatus.accepted:
            for cid in self._core.hardware.connector_ids:
                self._flow.maybe_start(cid)  # a car that waited for the CSMS's yes

    def answers_calls(self) -> bool:
        return bool(self._core.boot_status != RegistrationStatus.rejected)

    @property
    def feature_profiles(self) -> frozenset[FeatureProfile]:
        """The configured profiles, less Firmware Management when the app set up none."""
        enabled = set(self._core.settings.feature_profiles)
        if self._core.maintenance is None:
            enabled.discard(FeatureProfile.FIRMWARE_MANAGEMENT)
        return frozenset(enabled)

    def _booted(self) -> bool:
        """Before an Accepted boot (Pending, or no answer yet) the CSMS may configure the
        charger, but no session starts or stops on its word (OCPP 1.6 §4.2.1)."""
        return bool(self._core.boot_status == RegistrationStatus.accepted)

    def remote_start(
        self, id_tag: str, connector_id: int | None, profile: dict[str, Any] | None
    ) -> RemoteStartStopStatus:
        c = self._core
        if not self._booted():
            log.warning("RemoteStartTransaction refused: the boot is not Accepted yet")
            return Rejected
        ids = list(c.hardware.connector_ids)
        if connector_id is None:
            if profile is not None:
                return Rejected  # R14: a profile needs a connector to bind to
            free = [
                x
                for x in ids
                if x not in c.book
                and c.connectors.operative(x)
                and self._cards.reservation_admits(x, id_tag)
            ]
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
        if not self._cards.reservation_admits(connector_id, id_tag):
            log.warning("RemoteStartTransaction refused: connector %d is reserved", connector_id)
            return Rejected
        if c.keys.get_bool("AuthorizeRemoteTxRequests"):
            c.spawn(self._cards.authorize_remote(connector_id, id_tag, profile), "authorize")
        else:
            self._flow.authorize(connector_id, id_tag, profile, self._cards.group_of(id_tag))
        return Accepted

    def remote_stop(self, transaction_id: int) -> RemoteStartStopStatus:
        cid = self._core.book.by_transaction_id(transaction_id)
        if cid is None or not self._booted():
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
        key = self._core.keys.canonical(key) or key
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
        if message in _FIRMWARE_NOTICES and (
            FeatureProfile.FIRMWARE_MANAGEMENT not in self.feature_profiles
        ):
            return TriggerMessageStatus.not_implemented  # no firmware management to report on
        if message in _TRIGGERABLE:
            return TriggerMessageStatus.accepted
        return TriggerMessageStatus.not_implemented

    def trigger_later(self, message: str, connector_id: int | None) -> None:
        if self.trigger_status(message, connector_id) == TriggerMessageStatus.accepted:
            self._core.spawn(self.send_triggered(message, connector_id), "trigger")

    async def send_triggered(self, message: str, connector_id: int | None) -> None:
        c = self._core
        # While Pending, a triggered message is the one thing the charger may send besides
        # its BootNotification (OCPP 1.6 §4.2.1).
        pending = c.boot_status == RegistrationStatus.pending
        caller = c.session or (c.link_session if pending else None)
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
