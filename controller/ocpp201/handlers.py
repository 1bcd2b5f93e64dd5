"""What the station answers to a 2.0.1 CSMS's requests (implements `session.Host`).

The session only parses and routes; the decisions are here, on the station model and the
shared profile store. Smart-charging requests go through `profiles.to_store`, which applies
2.0.1's own rules before the 1.6-shaped store sees the profile.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.v201 import call

from controller.frame_counts import FrameCounts
from controller.ocpp201 import variables as v
from controller.ocpp201.auth_variables import AUTHORIZE_REMOTE_START
from controller.ocpp201.boot import Boot
from controller.ocpp201.cards import Cards
from controller.ocpp201.context import Context
from controller.ocpp201.flow import Flow
from controller.ocpp201.maintenance import Maintenance201
from controller.ocpp201.password import Password
from controller.ocpp201.ports import Answer
from controller.ocpp201.profiles import Refusal, composite_to_v201, to_store
from controller.ocpp201.station_requests import StationRequests
from controller.ocpp201.statuses import Statuses
from controller.ocpp201.tx_events import StartCause
from controller.station import StopReason
from controller.timestamps import utc_iso
from hw.base import CpState

log = logging.getLogger(__name__)

ACCEPTED: Answer = ("Accepted", None)


def _rejected(reason: str, info: str) -> Answer:
    return "Rejected", {"reason_code": reason, "additional_info": info}


class Handlers(StationRequests, FrameCounts):
    def __init__(
        self, ctx: Context, flow: Flow, statuses: Statuses, boot: Boot, cards: Cards
    ) -> None:
        super().__init__(ctx, flow, statuses, boot, cards)
        self.maintenance = Maintenance201(ctx)
        self.password = Password(ctx)
        FrameCounts.__init__(self, ctx.now)

    def open_transactions(self) -> dict[int, str]:
        return {cid: tx.tx_key for cid, tx in self._ctx.transactions.items()}

    # --- B: provisioning --------------------------------------------------------------------

    def _within(self, items: list[dict[str, Any]], limit: tuple[str, str]) -> None:
        most = self._ctx.variables.get_int(limit)
        if len(items) > most:
            raise OccurrenceConstraintViolationError(
                description=f"{len(items)} items, more than {limit[0]}.{limit[1]} = {most}"
            )

    def get_variables(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._within(items, v.ITEMS_GET_VARIABLES)
        var, pw = self._ctx.variables, self.password
        return [pw.get_result(i) if pw.owns(i) else var.get_result(i) for i in items]

    def set_variables(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._within(items, v.ITEMS_SET_VARIABLES)
        var, pw = self._ctx.variables, self.password
        results = [pw.set_result(i) if pw.owns(i) else var.set_result(i) for i in items]
        if any(r["attribute_status"] == "Accepted" for r in results):
            self._ctx.heartbeat_changed.set()
            self._ctx.meter_wake.set()
        return results

    def after_set_variables(self) -> None:
        self.password.reconnect_if_changed()

    def base_report(self, request_id: int, base: str) -> str:
        return "NotSupported" if self._ctx.variables.report_data(base) is None else "Accepted"

    def report_later(self, request_id: int, base: str) -> None:
        data = self._ctx.variables.report_data(base)
        if data is not None and self._ctx.session is not None:
            self._ctx.spawn(self._notify_report(request_id, data), "notify-report")

    async def _notify_report(self, request_id: int, data: list[dict[str, Any]]) -> None:
        """NotifyReports of at most ItemsPerMessage[GetReport] items, seqNo from 0, `tbc` on
        all but the last."""
        size = max(1, self._ctx.variables.get_int(v.ITEMS_GET_REPORT))
        pages = [data[i : i + size] for i in range(0, len(data), size)] or [[]]
        at = utc_iso(self._ctx.now())
        for n, page in enumerate(pages):
            caller = self._ctx.session
            if caller is None:
                return
            report = call.NotifyReport(
                request_id=request_id,
                generated_at=at,
                seq_no=n,
                report_data=page or None,
                tbc=n < len(pages) - 1,
            )
            await caller.call(report, suppress=False)

    def verdict(self, tx_key: str, id_token_info: dict[str, Any]) -> None:
        """The CSMS's idTokenInfo in a TransactionEvent answer: anything but Accepted stops
        the transaction when TxCtrlr.StopTxOnInvalidId says so (E05)."""
        self.learn(tx_key, id_token_info)
        status = id_token_info.get("status", "Accepted")
        if status == "Accepted" or not self._ctx.variables.get_bool(v.STOP_TX_ON_INVALID_ID):
            return
        for cid, tx in self._ctx.transactions.items():
            if tx.tx_key == tx_key:
                log.warning("CSMS answered %s for the idToken: stopping", status)
                self._flow.stop(cid, StopReason.DEAUTHORIZED)

    # --- F: remote control ------------------------------------------------------------------

    def request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None,
        profile: dict[str, Any] | None,
    ) -> Answer:
        c = self._ctx
        ids = list(c.hardware.connector_ids)
        if evse_id is None:
            free = [x for x in ids if x not in c.transactions and c.connectors.operative(x)]
            plugged = [x for x in free if c.hardware.snapshot(x).status.cp_state is not CpState.A]
            if not free:
                return _rejected("NoFreeEVSE", "every EVSE is busy or unavailable")
            evse_id = (plugged or free)[0]
        if evse_id not in ids:
            return _rejected("UnknownEVSE", f"no EVSE {evse_id}")
        if evse_id in c.transactions:
            return _rejected("TxInProgress", f"EVSE {evse_id} already has a transaction")
        if not c.connectors.operative(evse_id):
            return _rejected("Unavailable", f"EVSE {evse_id} is unavailable")
        stored = None
        if profile is not None:
            converted = to_store(
                evse_id,
                profile,
                evse_ids=ids,
                open_transactions={},
                installed=(),
                remote_start=True,
            )
            if isinstance(converted, Refusal):
                return "Rejected", converted.status_info()
            check = c.profiles.check_remote_start_profile(evse_id, converted.profile, c.now())
            if not check.accepted:
                return _rejected("InvalidProfile", check.reason)
            stored = converted.profile
        token = {"id_token": str(id_token.get("id_token", "")), "type": str(id_token.get("type"))}
        cause = StartCause(token, remote_start_id)
        if c.variables.get_bool(AUTHORIZE_REMOTE_START):  # the token's verdict first (F01)
            c.spawn(self._cards.authorize_remote(evse_id, cause, stored), "remote-authorize")
        else:
            self._flow.authorize(evse_id, cause, stored)
        return ACCEPTED

    def request_stop(self, transaction_id: str) -> Answer:
        for cid, tx_key in self.open_transactions().items():
            if tx_key == transaction_id:
                self._flow.stop(cid, StopReason.REMOTE)
                return ACCEPTED
        return _rejected("TxNotFound", f"no transaction {transaction_id!r} is running")

    # --- L, N: firmware and logs ---------------------------------------------------------

    def update_firmware(
        self, request_id: int, firmware: dict[str, Any], retries: int | None, interval: int | None
    ) -> str:
        return self.maintenance.update_firmware(request_id, firmware, retries, interval)

    def get_log(
        self,
        request_id: int,
        log_type: str,
        location: dict[str, Any],
        retries: int | None,
        interval: int | None,
    ) -> tuple[str, str | None]:
        return self.maintenance.get_log(request_id, log_type, location, retries, interval)

    def upload_log_later(self, request_id: int) -> None:
        self.maintenance.upload_log_later(request_id)

    # --- E: transactions --------------------------------------------------------------------

    def transaction_status(self, transaction_id: str | None) -> tuple[bool, bool | None]:
        queued = self._ctx.db.events_queued(transaction_id) > 0
        if transaction_id is None:
            return queued, None
        return queued, transaction_id in self.open_transactions().values()

    # --- K: smart charging ------------------------------------------------------------------

    def set_charging_profile(self, evse_id: int, profile: dict[str, Any]) -> Answer:
        c = self._ctx
        converted = to_store(
            evse_id,
            profile,
            evse_ids=list(c.hardware.connector_ids),
            open_transactions=self.open_transactions(),
            installed=c.profiles.installed(),
        )
        if isinstance(converted, Refusal):
            log.info("SetChargingProfile refused: %s", converted.info)
            return "Rejected", converted.status_info()
        result = c.profiles.set_charging_profile(converted.connector_id, converted.profile, c.now())
        if not result.accepted:
            log.info("SetChargingProfile refused: %s", result.reason or result.call_error)
            return _rejected("InvalidProfile", result.reason or str(result.call_error))
        return ACCEPTED

    def clear_charging_profile(
        self, profile_id: int | None, criteria: dict[str, Any] | None
    ) -> str:
        crit = criteria or {}
        purpose = crit.get("charging_profile_purpose")
        if purpose == "ChargingStationMaxProfile":
            purpose = "ChargePointMaxProfile"
        return self._ctx.profiles.clear_charging_profile(
            profile_id=profile_id,
            connector_id=crit.get("evse_id"),
            purpose=purpose,
            stack_level=crit.get("stack_level"),
        )

    def composite_schedule(
        self, evse_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None:
        c = self._ctx
        schedule = c.profiles.composite_schedule(evse_id, c.now(), duration_s, unit)
        return None if schedule is None else composite_to_v201(schedule, evse_id)
