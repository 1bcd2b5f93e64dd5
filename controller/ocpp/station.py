"""What the OCPP side sees of the charger's hardware, and may ask of it.

The daemon implements `Station`; the OCPP client only reads snapshots and asks for the few
things a CSMS can request of hardware (unlock, reset, availability).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hw.base import EvseStatus, MeterSample


@dataclass(frozen=True, slots=True)
class ConnectorSnapshot:
    connector_id: int
    status: EvseStatus
    limit_a: float | None
    meter: MeterSample | None
    # False for a connector with no meter configured: there is no register to wait for.
    metered: bool = True


class Station(Protocol):
    @property
    def connector_ids(self) -> Sequence[int]: ...

    def snapshot(self, connector_id: int) -> ConnectorSnapshot: ...

    async def unlock_connector(self, connector_id: int) -> bool: ...

    async def reset(self, kind: str) -> None: ...

    def set_operative(self, connector_id: int, operative: bool) -> None: ...
