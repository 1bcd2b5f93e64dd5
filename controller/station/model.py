"""The station's plain typed state: what a connector's hardware shows, and what a session is.

No protocol lives here: an OCPP 1.6 or 2.0.1 adapter and the dashboard read these types and
translate them into their own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hw.base import EvseStatus, MeterSample


@dataclass(frozen=True, slots=True)
class ConnectorSnapshot:
    connector_id: int
    status: EvseStatus
    limit_a: float | None
    meter: MeterSample | None
    # False for a connector with no meter configured: there is no register to wait for.
    metered: bool = True
    # The phases the control loop charges on (1 after a switch to one phase); None where the
    # daemon does not say, and a protocol adapter takes the supply's phases.
    phases_in_use: int | None = None


class Hardware(Protocol):
    """What the daemon offers the station: snapshots, and the few things a CSMS may ask of
    the hardware (unlock, reset, availability)."""

    @property
    def connector_ids(self) -> Sequence[int]: ...

    def snapshot(self, connector_id: int) -> ConnectorSnapshot: ...

    async def unlock_connector(self, connector_id: int) -> bool: ...

    async def reset(self, kind: str) -> None: ...

    def set_operative(self, connector_id: int, operative: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    """One charging session. `tx_key` is ours from the start; `transaction_id` is the
    central system's, None until it answered the start."""

    connector_id: int
    transaction_id: int | None
    id_tag: str
    start: datetime
    meter_start_wh: float
    tx_key: str = ""
    reservation_id: int | None = None  # the reservation this session fulfils
    parent_id_tag: str | None = None  # the group of `id_tag`, when known at the start
    # The central system's id when it is text (OCPP 2.0.1: ours, a UUID, from the start).
    transaction_id_text: str | None = None

    @property
    def central_id(self) -> int | str | None:
        """The id the central system knows the session by, whichever kind it is."""
        return self.transaction_id if self.transaction_id is not None else self.transaction_id_text


@dataclass(frozen=True, slots=True)
class Authorization:
    """An idTag allowed to start on a connector until `expires_mono`; `profile` is a charging
    profile that came with a remote start (kept opaque here); `parent_id_tag` is the tag's
    group, when known, which a reservation for the group admits."""

    id_tag: str
    profile: dict[str, Any] | None
    expires_mono: float
    parent_id_tag: str | None = None
