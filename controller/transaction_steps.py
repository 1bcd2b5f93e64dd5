"""How a transaction opens and what its end releases, for both OCPP adapters.

Both are protocol-free acts on the station model, so both versions must do them the same way:
at the start the authorization is used up, the reservation it fulfils is claimed and the
session is booked with its meterStart; at the end its charging profiles go and an availability
change the CSMS scheduled for the session's end takes effect. When to start and stop and what
the CSMS hears of it (1.6's StartTransaction and its confirmation watch, 2.0.1's
TransactionEvents and their triggers) stay in each adapter's flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from controller.auth import Reservations
from controller.smart_charging import ProfileStore
from controller.station import (
    Authorization,
    ConnectorStates,
    Hardware,
    TransactionBook,
    TransactionInfo,
)


class Parts(Protocol):
    """What of an adapter's shared state (1.6's `Core`, 2.0.1's `Context`) these steps touch."""

    hardware: Hardware
    profiles: ProfileStore
    connectors: ConnectorStates
    reservations: Reservations

    def now(self) -> datetime: ...


def open_transaction(
    parts: Parts,
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


def release_after_stop(parts: Parts, connector_id: int) -> None:
    """What the session on `connector_id`, just stopped, held: its charging profiles, and an
    availability change that waited for its end."""
    parts.profiles.transaction_stopped(connector_id)
    scheduled = parts.connectors.take_scheduled(connector_id)
    if scheduled is not None:
        parts.connectors.set_operative(connector_id, scheduled)
        parts.hardware.set_operative(connector_id, scheduled)
