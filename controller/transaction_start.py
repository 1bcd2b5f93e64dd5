"""How an admitted authorization becomes a transaction, for both OCPP adapters.

The start is a protocol-free act on the station model: the authorization is used up, the
reservation it fulfils is claimed, and the session is booked with its meterStart, so both
versions must do it the same way. When to start and what the CSMS hears of it (1.6's
StartTransaction and its confirmation watch, 2.0.1's Started event and its trigger) stay in
each adapter's flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from controller.auth import Reservations
from controller.station import Authorization, ConnectorStates, TransactionBook, TransactionInfo


class StartParts(Protocol):
    """What of an adapter's shared state (1.6's `Core`, 2.0.1's `Context`) a start touches."""

    @property
    def connectors(self) -> ConnectorStates: ...

    @property
    def reservations(self) -> Reservations: ...

    def now(self) -> datetime: ...


def open_transaction(
    parts: StartParts,
    book: TransactionBook,
    connector_id: int,
    auth: Authorization,
    meter_start_wh: float,
    tx_key: str,
) -> TransactionInfo:
    """Books the session `auth` starts on `connector_id`, fulfilling its reservation if any."""
    parts.connectors.consume(connector_id)
    now = parts.now()
    held = parts.reservations.claim(connector_id, auth.id_tag, auth.parent_id_tag)
    tx = TransactionInfo(
        connector_id,
        None,
        auth.id_tag,
        now,
        meter_start_wh,
        tx_key,
        reservation_id=None if held is None else held.reservation_id,
        parent_id_tag=auth.parent_id_tag,
    )
    book.start(tx)
    return tx
