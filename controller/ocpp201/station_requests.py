"""The station's answers to 2.0.1's availability (G), trigger and unlock (F), reset (B11/B12),
authorization cache and local list (C, D) and profile report (K09) requests: a part of
`handlers.Handlers`, kept apart to stay one job a file.

Whatever must follow an answer (the triggered message, the profile report) runs as a
supervised task once the answer is sent (the session's `@after` routes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ocpp.v201 import call

from controller.ocpp201 import tx_events as te
from controller.ocpp201 import variables as v
from controller.ocpp201.authorization import token_tag
from controller.ocpp201.boot import BOOT_REASON_KEY, Boot
from controller.ocpp201.cards import Cards
from controller.ocpp201.context import Context
from controller.ocpp201.flow import Flow
from controller.ocpp201.ports import Answer
from controller.ocpp201.profiles import from_store
from controller.ocpp201.reserving import Reserving
from controller.ocpp201.statuses import Statuses
from controller.station import EventKind, StationEvent, StopReason
from controller.timestamps import parse_time, utc_iso

log = logging.getLogger(__name__)

TRIGGERABLE = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "TransactionEvent", "MeterValues"}
)


class StationRequests:
    def __init__(
        self, ctx: Context, flow: Flow, statuses: Statuses, boot: Boot, cards: Cards
    ) -> None:
        self._ctx = ctx
        self._flow = flow
        self._statuses = statuses
        self._boot = boot
        self._cards = cards
        self.reserving = Reserving(ctx, cards.auth.db)

    # --- C, D: authorization cache and local list ---------------------------------------------

    def clear_cache(self) -> str:
        return "Accepted" if self._cards.auth.clear_cache() else "Rejected"

    def local_list_version(self) -> int:
        return self._cards.auth.list_version()

    def send_local_list(
        self, version: int, kind: str, entries: list[dict[str, Any]]
    ) -> tuple[str, dict[str, str] | None]:
        status, why = self._cards.auth.send_local_list(version, kind, entries)
        return status, None if not why else {"reason_code": status, "additional_info": why[:512]}

    def reserve_now(
        self,
        reservation_id: int,
        expiry: str,
        id_token: dict[str, Any],
        evse_id: int | None,
        group: dict[str, Any] | None,
    ) -> Answer:
        at = parse_time(expiry)
        if at is None:
            return "Rejected", {"reason_code": "InvalidValue", "additional_info": "expiryDateTime"}
        tag, group_tag = str(id_token.get("id_token", "")), None if not group else token_tag(group)
        status = self.reserving.reserve(reservation_id, at, tag, group_tag, evse_id or 0)
        return status.value, None

    def cancel_reservation(self, reservation_id: int) -> str:
        return "Accepted" if self.reserving.cancel(reservation_id) else "Rejected"

    def learn(self, tx_key: str, id_token_info: dict[str, Any]) -> None:
        """A TransactionEvent answer's idTokenInfo, for the token that started it (C10)."""
        token = self._flow.tokens.get(tx_key)
        if token is not None:
            self._cards.auth.learn(token_tag(token), id_token_info)

    # --- G: availability --------------------------------------------------------------------

    def change_availability(self, evse_id: int | None, operative: bool) -> str:
        """The whole station (no evse) or one EVSE; a running transaction makes it Scheduled:
        the EVSE changes when the transaction ends (G03.FR.05)."""
        c = self._ctx
        ids = list(c.hardware.connector_ids)
        if evse_id is not None and evse_id != 0 and evse_id not in ids:
            return "Rejected"
        scheduled = False
        for cid in ids if not evse_id else [evse_id]:
            if not operative and cid in c.transactions:
                c.connectors.schedule(cid, False)
                scheduled = True
                continue
            c.connectors.schedule(cid, None)
            c.connectors.set_operative(cid, operative)
            c.hardware.set_operative(cid, operative)
            c.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
        return "Scheduled" if scheduled else "Accepted"

    # --- F: trigger and unlock --------------------------------------------------------------

    def trigger_status(self, message: str, evse_id: int | None) -> str:
        if evse_id is not None and evse_id not in self._ctx.hardware.connector_ids:
            return "Rejected"
        return "Accepted" if message in TRIGGERABLE else "NotImplemented"

    def trigger_later(self, message: str, evse_id: int | None) -> None:
        if self.trigger_status(message, evse_id) == "Accepted":
            self._ctx.spawn(self._send_triggered(message, evse_id), "trigger")

    async def _send_triggered(self, message: str, evse_id: int | None) -> None:
        c = self._ctx
        caller = c.session
        if caller is None:
            return
        ids = [evse_id] if evse_id else list(c.hardware.connector_ids)
        if message == "BootNotification":
            self._boot.reason = "Triggered"
            await self._boot.boot_once(caller)
        elif message == "Heartbeat":
            await caller.call(call.Heartbeat(), suppress=False)
        elif message == "StatusNotification":
            for cid in ids:
                await self._statuses.send(caller, cid, force=True)
        elif message == "TransactionEvent":
            for cid in ids:
                tx = c.transactions.get(cid)
                if tx is not None:
                    self._flow.periodic(cid, tx, te.Trigger.TRIGGER)
        elif message == "MeterValues":
            measurands = c.variables.get_list(v.TX_UPDATED_MEASURANDS)
            for cid in ids:
                values = te.sampled_values(c.hardware.snapshot(cid), measurands, "Trigger")
                meter = [{"timestamp": utc_iso(c.now()), "sampled_value": values}]
                await caller.call(call.MeterValues(evse_id=cid, meter_value=meter), suppress=False)

    def unlock(self, evse_id: int, connector_id: int) -> str:
        c = self._ctx
        if evse_id not in c.hardware.connector_ids or connector_id != te.CONNECTOR_OF_EVSE:
            return "UnknownConnector"
        if evse_id in c.transactions:
            return "OngoingAuthorizedTransaction"  # F05.FR.02: stop it first
        return "UnlockFailed"  # no cable lock actuator on the supported hardware

    # --- B11, B12: reset ----------------------------------------------------------------------

    def reset_status(self, kind: str) -> str:
        """OnIdle with a transaction running waits for it to end: Scheduled (B12.FR.01)."""
        return "Scheduled" if kind == "OnIdle" and list(self._ctx.transactions) else "Accepted"

    def reset_later(self, kind: str) -> None:
        self._ctx.spawn(self._reset(kind), "reset")

    async def _reset(self, kind: str) -> None:
        c = self._ctx
        if kind == "OnIdle":
            while list(c.transactions):
                await c.timers.sleep(1.0)
        for cid in list(c.transactions):
            self._flow.stop(cid, StopReason.HARD_RESET)  # Immediate: ImmediateReset
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while c.db.pending() and c.session is not None:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        c.db.set_config(BOOT_REASON_KEY, "RemoteReset")  # the next BootNotification's reason
        await c.hardware.reset("Hard" if kind == "Immediate" else "Soft")

    # --- K09: GetChargingProfiles -----------------------------------------------------------

    def _matching(self, evse_id: int | None, criteria: dict[str, Any]) -> list[dict[str, Any]]:
        c = self._ctx
        sources = criteria.get("charging_limit_source")
        if sources is not None and "CSO" not in sources:
            return []
        ids = criteria.get("charging_profile_id")
        purpose = criteria.get("charging_profile_purpose")
        stack = criteria.get("stack_level")
        txs = {cid: tx.tx_key for cid, tx in c.transactions.items()}
        out = []
        for ip in c.profiles.installed():
            p = from_store(ip.profile, txs.get(ip.connector_id))
            if (
                (evse_id is None or ip.connector_id == evse_id)
                and (ids is None or p["id"] in ids)
                and (purpose is None or p["charging_profile_purpose"] == purpose)
                and (stack is None or p["stack_level"] == stack)
            ):
                out.append({"evse_id": ip.connector_id, "profile": p})
        return out

    def charging_profiles(
        self, request_id: int, evse_id: int | None, criteria: dict[str, Any]
    ) -> str:
        return "Accepted" if self._matching(evse_id, criteria) else "NoProfiles"

    def report_profiles_later(
        self, request_id: int, evse_id: int | None, criteria: dict[str, Any]
    ) -> None:
        found = self._matching(evse_id, criteria)
        if found and self._ctx.session is not None:
            self._ctx.spawn(self._report(request_id, found), "report-profiles")

    async def _report(self, request_id: int, found: list[dict[str, Any]]) -> None:
        """One ReportChargingProfiles per EVSE, `tbc` on all but the last (K09.FR.03)."""
        caller = self._ctx.session
        by_evse: dict[int, list[dict[str, Any]]] = {}
        for item in found:
            by_evse.setdefault(item["evse_id"], []).append(item["profile"])
        for n, (evse_id, profiles) in enumerate(sorted(by_evse.items())):
            if caller is None:
                return
            await caller.call(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    evse_id=evse_id,
                    charging_profile=profiles,
                    tbc=n < len(by_evse) - 1,
                ),
                suppress=False,
            )
