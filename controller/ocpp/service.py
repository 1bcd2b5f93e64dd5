"""The charge point's OCPP 1.6J client: connection, boot, transactions, metering, offline queue.

State that must outlive a websocket (boot status, transactions, the queue, configuration keys)
lives here and in SQLite, never in the per-connection `Session`: a fresh session per connection
loses nothing. The connection is retried forever with exponential backoff and jitter, on every
failure (HTTP 401 included); a call in flight when the link drops fails at once because the
session's tasks are cancelled together.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import sqlite3
import ssl
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import websockets
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.asyncio.client import connect

from controller.logs import install_ocpp_filter
from controller.ocpp.config_keys import ConfigKeys, definitions
from controller.ocpp.metering import sampled_values
from controller.ocpp.outbox import OcppDb, StoredTransaction
from controller.ocpp.security import Transport, connect_refusal
from controller.ocpp.session import Session
from controller.ocpp.settings import OcppSettings
from controller.ocpp.station import ConnectorSnapshot, Station
from controller.ocpp.status import connector_status
from controller.ocpp.transactions import (
    MeterStartSource,
    good_energy_wh,
    meter_stop_wh,
    retry_delay_s,
    storable_id,
)
from controller.ocpp.tx_watch import NO_METER_TEXT, TransactionWatch
from controller.smart_charging import ProfileStore, SetResult
from hw.base import CpState
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.ocpp.firmware_handlers import Maintenance

log = logging.getLogger(__name__)

TX_ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues", "SecurityEventNotification")
# Queued like transaction messages, but one attempt each: a CALLERROR never holds the queue.
NOTICE_ACTIONS = (
    "SecurityEventNotification",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    connector_id: int
    transaction_id: int | None
    id_tag: str
    start: datetime
    meter_start_wh: float
    tx_key: str = ""


@dataclass(slots=True)
class _Authorization:
    id_tag: str
    profile: dict[str, Any] | None
    expires_mono: float


class ChargePointService:
    def __init__(
        self,
        settings: OcppSettings,
        station: Station,
        profiles: ProfileStore,
        state_dir: Path,
        clock: Clock,
    ) -> None:
        install_ocpp_filter()  # unsupported CSMS requests: one warning, not a traceback
        self.settings = settings
        self.station = station
        self.profiles = profiles
        self._clock = clock
        self.db = OcppDb(state_dir / "ocpp.sqlite")
        cfg = profiles.config
        self.keys = ConfigKeys(
            self.db,
            definitions(
                len(station.connector_ids),
                {
                    "ChargeProfileMaxStackLevel": str(cfg.max_stack_level),
                    "ChargingScheduleAllowedChargingRateUnit": ",".join(cfg.allowed_units),
                    "ChargingScheduleMaxPeriods": str(cfg.max_periods),
                    "MaxChargingProfilesInstalled": str(cfg.max_profiles),
                },
            ),
            Transport.of(self.settings),
        )
        self.link_state = "offline"
        self.boot_status: str | None = None
        self.clock_offset_s = 0.0
        self.frames_received = 0
        self.frames_rejected = 0
        self.boots_sent = 0
        self._session: Session | None = None
        self._transactions: dict[int, TransactionInfo] = {}
        self._auth: dict[int, _Authorization] = {}
        stored = self.db.config_items()
        # A session stopped with the car still plugged in stays stopped across a restart: free
        # vend waits for the car to be unplugged.
        self._finishing: set[int] = {
            cid for cid in station.connector_ids if stored.get(f"_finishing.{cid}") == "true"
        }
        self._operative: dict[int, bool] = {
            cid: stored.get(f"_available.{cid}", "true") == "true" for cid in station.connector_ids
        }
        self._watch = TransactionWatch(settings.start_grace_s)
        self._scheduled_availability: dict[int, bool] = {}
        self._status: dict[int, tuple[str, str]] = {}
        self._sent_status: dict[int, tuple[str, str]] = {}
        self._last_sample: dict[int, float] = {}
        self._outbox_event = asyncio.Event()
        self._heartbeat_changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._to_power_loss: list[StoredTransaction] = []
        self.maintenance: Maintenance | None = None  # firmware and diagnostics, set by the app
        self._restore()

    # --- helpers ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s failed: %r", task.get_name(), exc)

    def _snapshot(self, connector_id: int) -> ConnectorSnapshot:
        return self.station.snapshot(connector_id)

    def _energy_wh(self, connector_id: int) -> float | None:
        return good_energy_wh(self._snapshot(connector_id).meter)

    def _set_finishing(self, connector_id: int, finishing: bool) -> None:
        if finishing == (connector_id in self._finishing):
            return
        if finishing:
            self._finishing.add(connector_id)
        else:
            self._finishing.discard(connector_id)
        self.db.set_config(f"_finishing.{connector_id}", "true" if finishing else "false")

    # --- restart --------------------------------------------------------------------------

    def _restore(self) -> None:
        for tx in self.db.open_transactions():
            if tx.connector_id not in self.station.connector_ids:
                continue
            info = TransactionInfo(
                tx.connector_id,
                tx.transaction_id,
                tx.id_tag,
                tx.start,
                tx.meter_start_wh,
                tx.tx_key,
            )
            self._transactions[tx.connector_id] = info
            self._last_sample[tx.connector_id] = self._clock.monotonic()
            if tx.transaction_id is None:
                self._watch.started(tx.connector_id, self._clock.monotonic())
            if self.settings.resume_transaction_after_power_loss:
                log.warning(
                    "resuming transaction %s after a restart", tx.transaction_id or tx.tx_key
                )
                if self.profiles.transaction(tx.connector_id) is None:
                    self.profiles.transaction_started(tx.connector_id, tx.transaction_id, tx.start)
            else:
                self._to_power_loss.append(tx)

    async def _stop_power_loss(self) -> None:
        """Transactions cut by a crash or power cut end with reason PowerLoss at start-up."""
        if not self._to_power_loss:
            return
        for _ in range(30):  # give the meter a moment for a real meterStop
            if all(self._energy_wh(t.connector_id) is not None for t in self._to_power_loss):
                break
            await asyncio.sleep(0.1)
        for tx in self._to_power_loss:
            log.warning(
                "transaction %s was cut by a restart: stopping it (PowerLoss)",
                tx.transaction_id or tx.tx_key,
            )
            self._stop(tx.connector_id, "PowerLoss")
        self._to_power_loss = []

    # --- what the daemon asks ---------------------------------------------------------------

    def active_transaction(self, connector_id: int) -> TransactionInfo | None:
        return self._transactions.get(connector_id)

    def charging_permitted(self, connector_id: int) -> bool:
        return (
            connector_id in self._transactions
            and (
                self._operative.get(connector_id, True)
                or connector_id in self._scheduled_availability
            )
            and not any(t.connector_id == connector_id for t in self._to_power_loss)
            and not self._start_overdue(connector_id)
        )

    def _start_overdue(self, connector_id: int) -> bool:
        link_up = self._session is not None
        return self._watch.overdue(connector_id, link_up=link_up, mono=self._clock.monotonic())

    def pause_reason(self, connector_id: int) -> str | None:
        """Why the charger itself holds back a connector, for people reading `status`."""
        link_up = self._session is not None
        return self._watch.reason(connector_id, link_up=link_up, mono=self._clock.monotonic())

    def connector_status(self, connector_id: int) -> str:
        status = self._status.get(connector_id)
        return "-" if status is None else status[0]

    def connector_changed(self, connector_id: int) -> None:
        snap = self._snapshot(connector_id)
        unplugged = snap.status.cp_state is CpState.A
        if unplugged:
            self._set_finishing(connector_id, False)
            if connector_id in self._transactions and self.keys.get_bool(
                "StopTransactionOnEVSideDisconnect"
            ):
                self._stop(connector_id, "EVDisconnected")
        self._maybe_start(connector_id)
        self._update_status(connector_id)

    async def present_id_tag(self, connector_id: int, id_tag: str) -> bool:
        """A local card or button: stops the session it started, else authorises a new one."""
        tx = self._transactions.get(connector_id)
        if tx is not None:
            if tx.id_tag == id_tag:
                self._stop(connector_id, "Local")
                return True
            return False
        accepted = self.keys.get_bool("AllowOfflineTxForUnknownId")
        session = self._session
        if session is not None and self.boot_status == "Accepted":
            try:
                resp = await session.call(call.Authorize(id_tag=id_tag), suppress=False)
                accepted = resp.id_tag_info.get("status") == "Accepted"
            except (OCPPError, TimeoutError, websockets.ConnectionClosed) as exc:
                log.warning("Authorize failed (%s); deciding offline", exc)
        if not accepted:
            return False
        self._authorize(connector_id, id_tag, None)
        return True

    # --- transactions ---------------------------------------------------------------------

    def _authorize(self, connector_id: int, id_tag: str, profile: dict[str, Any] | None) -> None:
        timeout = self.keys.get_int("ConnectionTimeOut")
        self._auth[connector_id] = _Authorization(
            id_tag, profile, self._clock.monotonic() + timeout
        )
        self._maybe_start(connector_id)
        self._update_status(connector_id)

    def _maybe_start(self, connector_id: int) -> None:
        if connector_id in self._transactions or not self._operative.get(connector_id, True):
            self._watch.forget_wait(connector_id)
            return
        snap = self._snapshot(connector_id)
        if snap.status.cp_state not in (CpState.B, CpState.C, CpState.D):
            self._watch.forget_wait(connector_id)
            return
        if connector_id in self._finishing:
            self._watch.forget_wait(connector_id)
            return  # the car of the session that just ended is still plugged in
        auth = self._auth.get(connector_id)
        if auth is not None and auth.expires_mono < self._clock.monotonic():
            del self._auth[connector_id]
            auth = None
        if auth is None and self.settings.free_vend_id_tag:
            auth = _Authorization(self.settings.free_vend_id_tag, None, 0.0)
        if auth is None:
            self._watch.forget_wait(connector_id)
            return
        meter_wh = self._meter_start(connector_id)
        if meter_wh is None:
            return  # retried by the metering task until a value is known
        self._auth.pop(connector_id, None)
        self._start(connector_id, auth.id_tag, auth.profile, meter_wh)

    def _meter_start(self, connector_id: int) -> float | None:
        """meterStart: a fresh reading, waited for; else the persisted register; never a 0 that
        stands in for a meter not read. Without any meter the register is 0 and stays so."""
        if not self._snapshot(connector_id).metered:
            return self.db.last_register_wh(connector_id) or 0.0
        decision = self._watch.meter_start(
            connector_id,
            self._energy_wh(connector_id),
            self.db.last_register_wh(connector_id),
            self._clock.monotonic(),
        )
        if decision.newly_missing:
            log.error("connector %d: %s", connector_id, NO_METER_TEXT)
            if self._session is not None and self.boot_status == "Accepted":
                self.spawn(self._send_status(self._session, connector_id, True), "status")
        if decision.source is MeterStartSource.PERSISTED:
            log.warning(
                "connector %d: meter not read; meterStart %.0f Wh is the last reported register",
                connector_id,
                decision.energy_wh,
            )
        return decision.energy_wh

    def _start(
        self,
        connector_id: int,
        id_tag: str,
        profile: dict[str, Any] | None,
        meter_wh: float,
    ) -> None:
        now = self.now()
        tx_key = uuid.uuid4().hex
        info = TransactionInfo(connector_id, None, id_tag, now, meter_wh, tx_key)
        self.db.open_transaction(
            StoredTransaction(tx_key, connector_id, None, id_tag, now, meter_wh),
            {
                "connector_id": connector_id,
                "id_tag": id_tag,
                "meter_start": round(meter_wh),
                "timestamp": utc_iso(now),
            },
        )
        self._transactions[connector_id] = info
        self._last_sample[connector_id] = self._clock.monotonic()
        self._watch.started(connector_id, self._clock.monotonic())
        log.info("transaction started on connector %d for %s", connector_id, id_tag)
        self.profiles.transaction_started(connector_id, None, now, profile)
        self._outbox_event.set()

    def _stop(self, connector_id: int, reason: str) -> None:
        tx = self._transactions.pop(connector_id, None)
        if tx is None:
            return
        now = self.now()
        self._watch.confirmed(connector_id)
        meter_stop = meter_stop_wh(
            self._energy_wh(connector_id),
            self.db.last_register_wh(connector_id),
            tx.meter_start_wh,
        )
        payload: dict[str, Any] = {
            "meter_stop": round(meter_stop),
            "timestamp": utc_iso(now),
            "transaction_id": tx.transaction_id,
            "reason": reason,
            "id_tag": tx.id_tag,
        }
        stop_data = self._sampled_values(connector_id, "StopTxnSampledData", "Transaction.End")
        if stop_data:
            payload["transaction_data"] = [{"timestamp": utc_iso(now), "sampled_value": stop_data}]
        self.db.close_transaction(tx.tx_key, payload, (connector_id, meter_stop))
        log.info(
            "transaction %s on connector %d stopped: %s",
            tx.transaction_id or tx.tx_key,
            connector_id,
            reason,
        )
        if self._snapshot(connector_id).status.cp_state is not CpState.A:
            self._set_finishing(connector_id, True)
        self.profiles.transaction_stopped(connector_id)
        if connector_id in self._scheduled_availability:
            self._set_operative(connector_id, self._scheduled_availability.pop(connector_id))
        self._outbox_event.set()
        self._update_status(connector_id)

    # --- handlers (called from Session) ---------------------------------------------------

    def remote_start(
        self, id_tag: str, connector_id: int | None, profile: dict[str, Any] | None
    ) -> str:
        ids = list(self.station.connector_ids)
        if connector_id is None:
            if profile is not None:
                return "Rejected"  # R14: a profile needs a connector to bind to
            free = [c for c in ids if c not in self._transactions and self._operative[c]]
            if not free:
                return "Rejected"
            plugged = [c for c in free if self._snapshot(c).status.cp_state is not CpState.A]
            connector_id = (plugged or free)[0]
        if connector_id not in ids or connector_id in self._transactions:
            return "Rejected"
        if not self._operative.get(connector_id, True):
            return "Rejected"
        if profile is not None:
            check = self.profiles.check_remote_start_profile(connector_id, profile, self.now())
            if not check.accepted:
                log.warning("RemoteStartTransaction refused: %s", check.reason)
                return "Rejected"
        self._authorize(connector_id, id_tag, profile)
        return "Accepted"

    def remote_stop(self, transaction_id: int) -> str:
        for cid, tx in list(self._transactions.items()):
            if tx.transaction_id == transaction_id:
                self._stop(cid, "Remote")
                return "Accepted"
        return "Rejected"

    def set_charging_profile(self, connector_id: int, profile: dict[str, Any]) -> SetResult:
        result = self.profiles.set_charging_profile(connector_id, profile, self.now())
        if not result.accepted:
            log.info("SetChargingProfile refused: %s", result.reason or result.call_error)
        return result

    def change_availability(self, connector_id: int, kind: str) -> str:
        ids = list(self.station.connector_ids)
        if connector_id != 0 and connector_id not in ids:
            return "Rejected"
        operative = kind == "Operative"
        targets = ids if connector_id == 0 else [connector_id]
        scheduled = False
        for cid in targets:
            if not operative and cid in self._transactions:
                self._scheduled_availability[cid] = False
                scheduled = True
            else:
                self._scheduled_availability.pop(cid, None)
                self._set_operative(cid, operative)
        return "Scheduled" if scheduled else "Accepted"

    def _set_operative(self, connector_id: int, operative: bool) -> None:
        self._operative[connector_id] = operative
        self.db.set_config(f"_available.{connector_id}", "true" if operative else "false")
        self.station.set_operative(connector_id, operative)
        self._update_status(connector_id)

    def change_configuration(self, key: str, value: str) -> str:
        status = self.keys.change(key, value)
        if status in ("Accepted", "RebootRequired") and key == "HeartbeatInterval":
            self._heartbeat_changed.set()
        return status

    async def unlock(self, connector_id: int) -> str:
        if connector_id not in self.station.connector_ids:
            return "NotSupported"
        if not await self.station.unlock_connector(connector_id):
            return "NotSupported"
        self._stop(connector_id, "UnlockCommand")
        return "Unlocked"

    async def do_reset(self, kind: str) -> None:
        reason = "HardReset" if kind == "Hard" else "SoftReset"
        for cid in list(self._transactions):
            self._stop(cid, reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while self.db.pending() and self._session is not None:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        await self.station.reset(kind)

    def trigger_status(self, message: str, connector_id: int | None) -> str:
        if connector_id is not None and connector_id not in (0, *self.station.connector_ids):
            return "Rejected"
        if message in (
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
        ):
            return "Accepted"
        return "NotImplemented"

    async def send_triggered(self, message: str, connector_id: int | None) -> None:
        session = self._session
        if session is None:
            return
        ids = [connector_id] if connector_id else list(self.station.connector_ids)
        if message == "BootNotification":
            await self._boot_once(session)
        elif message == "Heartbeat":
            await self._heartbeat(session)
        elif message == "StatusNotification":
            for cid in [0, *ids] if connector_id is None else ids:
                await self._send_status(session, cid, force=True)
        elif message == "MeterValues":
            for cid in ids:
                values = self._sampled_values(cid, "MeterValuesSampledData", "Trigger")
                tx = self._transactions.get(cid)
                req = call.MeterValues(
                    connector_id=cid,
                    meter_value=[{"timestamp": utc_iso(self.now()), "sampled_value": values}],
                    transaction_id=None if tx is None else tx.transaction_id,
                )
                await session.call(req, suppress=False)
        elif message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            m = self.maintenance
            status = "Idle" if m is None else m.current_status(message)
            await session.call(getattr(call, message)(status=status), suppress=False)

    # --- statuses ---------------------------------------------------------------------------

    def _update_status(self, connector_id: int) -> None:
        snap = self._snapshot(connector_id)
        status = connector_status(
            snap.status,
            in_transaction=connector_id in self._transactions,
            operative=self._operative.get(connector_id, True),
            finishing=connector_id in self._finishing,
            authorized=connector_id in self._auth,
        )
        if self._status.get(connector_id) != status:
            self._status[connector_id] = status
            session = self._session
            if session is not None and self.boot_status == "Accepted":
                self.spawn(self._send_status(session, connector_id), "status")

    def _station_status(self) -> tuple[str, str]:
        if not any(self._operative.values()):
            return "Unavailable", "NoError"
        return "Available", "NoError"

    async def _send_status(self, session: Session, connector_id: int, force: bool = False) -> None:
        if connector_id == 0:
            status = self._station_status()
        else:
            if connector_id not in self._status:
                self._update_status(connector_id)
            status = self._status[connector_id]
        if not force and self._sent_status.get(connector_id) == status:
            return
        snap = None if connector_id == 0 else self._snapshot(connector_id)
        info = None
        if snap is not None and snap.status.fault:
            info = snap.status.fault[:50]
        elif self._watch.meter_missing(connector_id):
            info = NO_METER_TEXT[:50]
        await session.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=status[1],
                status=status[0],
                timestamp=utc_iso(self.now()),
                info=info,
            ),
            suppress=False,
        )
        self._sent_status[connector_id] = status

    # --- metering ---------------------------------------------------------------------------

    def _sampled_values(self, connector_id: int, key: str, context: str) -> list[dict[str, Any]]:
        return sampled_values(self._snapshot(connector_id), self.keys.get_list(key), context)

    async def _metering(self) -> None:
        """Queue sampled MeterValues of every running transaction, and clock-aligned ones."""
        last_aligned: int | None = None
        while True:
            await asyncio.sleep(0.2)
            for cid in self._watch.waiting():
                self._maybe_start(cid)
                self._update_status(cid)
            mono = self._clock.monotonic()
            interval = self.keys.get_int("MeterValueSampleInterval")
            for cid, tx in list(self._transactions.items()):
                if interval <= 0:
                    continue
                if mono - self._last_sample.get(cid, mono) >= interval:
                    self._last_sample[cid] = mono
                    self._queue_meter_values(cid, tx, "MeterValuesSampledData", "Sample.Periodic")
            aligned = self.keys.get_int("ClockAlignedDataInterval")
            if aligned > 0:
                slot = int(self.now().timestamp()) // aligned
                if last_aligned is not None and slot != last_aligned:
                    for cid in self.station.connector_ids:
                        self._queue_meter_values(
                            cid,
                            self._transactions.get(cid),
                            "MeterValuesAlignedData",
                            "Sample.Clock",
                        )
                last_aligned = slot

    def _queue_meter_values(
        self, cid: int, tx: TransactionInfo | None, key: str, context: str
    ) -> None:
        values = self._sampled_values(cid, key, context)
        if not values:
            return
        payload = {
            "connector_id": cid,
            "meter_value": [{"timestamp": utc_iso(self.now()), "sampled_value": values}],
        }
        energy_wh = self._energy_wh(cid)
        register = None if energy_wh is None else (cid, energy_wh)
        try:
            self.db.enqueue("MeterValues", payload, None if tx is None else tx.tx_key, register)
        except sqlite3.Error as exc:
            # A full or read-only disk: this sample is lost, say so, and keep metering.
            log.error("could not queue MeterValues: %s", exc)
            return
        self._outbox_event.set()

    # --- the connection ---------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.settings.url.startswith("wss://"):
            return None
        ctx = ssl.create_default_context(
            cafile=str(self.settings.ca_file) if self.settings.ca_file else None
        )
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.settings.client_cert and self.settings.client_key:
            ctx.load_cert_chain(str(self.settings.client_cert), str(self.settings.client_key))
        return ctx

    def _auth_header(self) -> dict[str, str]:
        password = self.keys.get("AuthorizationKey") or self.settings.password
        if not password:
            return {}
        token = f"{self.settings.charge_point_id}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(token).decode()}

    async def run(self) -> None:
        """Connect, and reconnect forever; cancel to stop."""
        self.spawn(self._stop_power_loss(), "power-loss")
        metering = asyncio.create_task(self._metering(), name="metering")
        url = f"{self.settings.url}/{self.settings.charge_point_id}"
        delay_s = 1.0
        try:
            while True:
                self.link_state = "connecting"
                started = self._clock.monotonic()
                try:
                    await self._connect_once(url)
                except asyncio.CancelledError:
                    raise
                except websockets.InvalidStatus as exc:
                    code = exc.response.status_code
                    log.warning("CSMS refused the connection: HTTP %d", code)
                    if code == 401:
                        self._security_event("FailedToAuthenticateAtCentralSystem", f"HTTP {code}")
                except ssl.SSLCertVerificationError as exc:
                    log.warning("CSMS certificate not trusted: %s", exc.verify_message)
                    self._security_event("InvalidCentralSystemCertificate", exc.verify_message)
                except Exception as exc:  # noqa: BLE001 - a charger keeps trying, whatever failed
                    log.warning("CSMS link: %s: %s", type(exc).__name__, exc)
                self.link_state = "offline"
                self._session = None
                if self._clock.monotonic() - started > 30:
                    delay_s = 1.0
                wait = min(self.settings.max_backoff_s, delay_s) * random.uniform(0.5, 1.0)
                delay_s = min(self.settings.max_backoff_s, delay_s * 2)
                await asyncio.sleep(wait)
        finally:
            metering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await metering

    async def _connect_once(self, url: str) -> None:
        refusal = connect_refusal(self.keys.get_int("SecurityProfile"), Transport.of(self.settings))
        if refusal is not None:
            raise ConnectionRefusedError(refusal)
        ping = self.keys.get_int("WebSocketPingInterval") or None
        async with connect(
            url,
            subprotocols=[websockets.Subprotocol("ocpp1.6")],
            additional_headers=self._auth_header(),
            ssl=self._ssl_context(),
            open_timeout=10,
            ping_interval=ping,
            ping_timeout=ping,
            close_timeout=5,
            proxy=None,
            max_size=4 * 1024 * 1024,
        ) as ws:
            if ws.subprotocol != "ocpp1.6":
                raise ConnectionError("the CSMS did not select the ocpp1.6 subprotocol")
            self.link_state = "connected"
            session = Session(self, ws, self.settings.call_timeout_s)
            reader = asyncio.create_task(session.start(), name="ocpp-reader")
            worker = asyncio.create_task(self._session_main(session), name="ocpp-session")
            try:
                done, _ = await asyncio.wait({reader, worker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._session = None
                for t in (reader, worker):
                    t.cancel()
                # Bounded, for the same reason as in aclose().
                await asyncio.wait({reader, worker}, timeout=2.0)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]

    async def _boot_once(self, session: Session) -> str:
        resp = await session.call(
            call.BootNotification(
                charge_point_model=self.settings.model,
                charge_point_vendor=self.settings.vendor,
                charge_point_serial_number=self.settings.serial_number,
                firmware_version=self.settings.firmware_version,
            ),
            suppress=False,
        )
        self.boots_sent += 1
        self._set_clock(resp.current_time)
        if resp.interval:
            self._boot_interval_s = int(resp.interval)
        status = str(resp.status)
        self.boot_status = status
        if status == "Accepted" and resp.interval:
            self.keys.change("HeartbeatInterval", str(int(resp.interval)))
        return status

    def _set_clock(self, current_time: str | None) -> None:
        if not current_time:
            return
        try:
            text = current_time.replace("Z", "+00:00")
            csms = datetime.fromisoformat(text)
            if csms.tzinfo is None:
                return
        except ValueError:
            return
        self.clock_offset_s = (csms - self._clock.now()).total_seconds()
        if abs(self.clock_offset_s) > 2:
            log.warning("our clock is %.0f s off the CSMS's", -self.clock_offset_s)

    async def _session_main(self, session: Session) -> None:
        if self.boot_status != "Accepted":
            # Once per power-up: a reconnect after an Accepted boot does not boot again.
            self.link_state = "booting"
            while await self._boot_once(session) != "Accepted":
                self.link_state = "pending" if self.boot_status == "Pending" else "rejected"
                await asyncio.sleep(max(5, getattr(self, "_boot_interval_s", 30)))
            log.info("BootNotification accepted")
            self._security_event("StartupOfTheDevice", None)
            if self.maintenance is not None:
                self.maintenance.boot_accepted()
        self._session = session
        self._watch.link_up(self._clock.monotonic())
        self.link_state = "booted"
        self._sent_status.clear()
        for cid in [0, *self.station.connector_ids]:
            await self._send_status(session, cid, force=True)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._deliver(session))
            tg.create_task(self._heartbeats(session))

    async def _heartbeat(self, session: Session) -> None:
        resp = await session.call(call.Heartbeat(), suppress=False)
        self._set_clock(resp.current_time)

    async def _heartbeats(self, session: Session) -> None:
        while True:
            interval = self.keys.get_int("HeartbeatInterval")
            self._heartbeat_changed.clear()
            if interval <= 0:
                await self._heartbeat_changed.wait()
                continue
            try:
                async with asyncio.timeout(interval):
                    await self._heartbeat_changed.wait()
                continue
            except TimeoutError:
                pass
            await self._heartbeat(session)

    # --- the queue ------------------------------------------------------------------------

    def enqueue_notification(self, action: str, payload: dict[str, Any]) -> None:
        """A status message for the CSMS, through the persistent queue like the others."""
        self.db.enqueue(action, payload)
        self._outbox_event.set()

    def _security_event(self, kind: str, info: str | None) -> None:
        self.db.enqueue_security_event(kind, utc_iso(self.now()), info)
        self._outbox_event.set()

    async def _deliver(self, session: Session) -> None:
        """Send the queue in order; remove a message only once the CSMS answered it."""
        while True:
            msg = self.db.peek()
            if msg is None:
                self._outbox_event.clear()
                if self.db.peek() is None:
                    await self._outbox_event.wait()
                continue
            payload = dict(msg.payload)
            if msg.tx_key and msg.action in ("MeterValues", "StopTransaction"):
                tid = self.db.transaction_id(msg.tx_key)
                if tid is None:
                    log.error("dropping %s: its transaction never got an id", msg.action)
                    self.db.ack(msg.seq)
                    continue
                payload["transaction_id"] = tid
            request = getattr(call, msg.action)(**payload)
            try:
                resp = await session.call(request, suppress=False)
            except OCPPError as exc:
                if msg.action in NOTICE_ACTIONS:
                    # Not a transaction message: one attempt (old CSMSes answer NotImplemented).
                    log.warning("%s answered with %s; dropped", msg.action, exc.code)
                    self.db.ack(msg.seq)
                    continue
                await self._failed_attempt(msg.seq, msg.action, msg.tx_key, exc.code)
                continue
            if msg.action == "StartTransaction" and msg.tx_key:
                if not storable_id(resp.transaction_id):
                    # Not a CALL we can answer with an error: treat it as a failed attempt.
                    await self._failed_attempt(
                        msg.seq, msg.action, msg.tx_key, "an out-of-range transactionId"
                    )
                    continue
                self._transaction_confirmed(msg.tx_key, int(resp.transaction_id), resp.id_tag_info)
            self.db.ack(msg.seq)
            if msg.action == "StopTransaction":
                self.db.forget_closed()

    async def _failed_attempt(self, seq: int, action: str, tx_key: str | None, why: str) -> None:
        """Transaction messages are retried forever (slower after the OCPP attempts); others
        are given up after TransactionMessageAttempts."""
        attempts = self.db.count_attempt(seq)
        limit = self.keys.get_int("TransactionMessageAttempts")
        log.warning("%s answered with %s (attempt %d of %d)", action, why, attempts, limit)
        if tx_key is None and attempts >= limit:
            log.error("giving up on %s after %d attempts", action, attempts)
            self.db.ack(seq)
            return
        if attempts == limit:
            log.error("%s still not accepted after %d attempts: retrying slower", action, limit)
        interval = self.keys.get_int("TransactionMessageRetryInterval")
        await asyncio.sleep(retry_delay_s(attempts, limit, interval))

    def _transaction_confirmed(
        self, tx_key: str, transaction_id: int, id_tag_info: dict[str, Any] | None
    ) -> None:
        self.db.assign_transaction_id(tx_key, transaction_id)
        for cid, tx in list(self._transactions.items()):
            if tx.tx_key != tx_key:
                continue
            self._transactions[cid] = replace(tx, transaction_id=transaction_id)
            self._watch.confirmed(cid)
            self.profiles.transaction_id_assigned(cid, transaction_id)
            status = (id_tag_info or {}).get("status", "Accepted")
            if status != "Accepted" and self.keys.get_bool("StopTransactionOnInvalidId"):
                log.warning("CSMS answered %s for the transaction's idTag: stopping", status)
                self._stop(cid, "DeAuthorized")

    # --- status and shutdown --------------------------------------------------------------

    def status_document(self) -> dict[str, Any]:
        return {
            "link": self.link_state,
            "boot": self.boot_status,
            "queued_messages": self.db.pending(),
            "clock_offset_s": round(self.clock_offset_s, 1),
        }

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            # Bounded: a call stuck inside the ocpp library (its wait_for can miss a
            # cancellation on Python 3.11) must not hold the service's shutdown.
            _, stuck = await asyncio.wait(tasks, timeout=2.0)
            for t in stuck:
                log.warning("%s did not stop in time; leaving it", t.get_name())
        self.db.close()
