"""The station's transaction journal on the OCPP store: a transaction's record and its
StartTransaction or StopTransaction are one commit, so neither exists without the other."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from controller.ocpp.core import utc_iso
from controller.ocpp.outbox import OcppDb
from controller.ocpp.queue_layout import restored, stored
from controller.station import StopReason, TransactionInfo

# The Transaction.End sampled values of a connector, for a StopTransaction's transactionData.
StopValues = Callable[[int], list[dict[str, Any]]]


class OcppJournal:
    def __init__(self, db: OcppDb, stop_values: StopValues) -> None:
        self._db = db
        self._stop_values = stop_values

    def stored_open(self) -> list[TransactionInfo]:
        return [restored(t) for t in self._db.open_transactions()]

    def record_start(self, tx: TransactionInfo) -> None:
        start: dict[str, Any] = {
            "connector_id": tx.connector_id,
            "id_tag": tx.id_tag,
            "meter_start": round(tx.meter_start_wh),
            "timestamp": utc_iso(tx.start),
        }
        if tx.reservation_id is not None:
            start["reservation_id"] = tx.reservation_id
        self._db.open_transaction(stored(tx), start)

    def record_id(self, tx_key: str, transaction_id: int) -> None:
        self._db.assign_transaction_id(tx_key, transaction_id)

    def record_stop(
        self,
        tx: TransactionInfo,
        meter_stop_wh: float,
        reason: StopReason,
        at: datetime,
        stop_id_tag: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "meter_stop": round(meter_stop_wh),
            "timestamp": utc_iso(at),
            "transaction_id": tx.transaction_id,
            "reason": reason.value,
            "id_tag": stop_id_tag or tx.id_tag,
        }
        stop_data = self._stop_values(tx.connector_id)
        if stop_data:
            payload["transaction_data"] = [{"timestamp": utc_iso(at), "sampled_value": stop_data}]
        self._db.close_transaction(tx.tx_key, payload, (tx.connector_id, meter_stop_wh))
