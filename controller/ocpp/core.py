"""What the parts of the OCPP adapter share: the station model, the durable store, the link.

The parts (statuses, transaction flow, delivery, boot, metering, request handlers) each get this
context and talk to the central system only through `caller()`; none imports another part's
module except where the dependency runs one way (see docs/ocpp.md, "Architecture").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from ocpp.v16.enums import RegistrationStatus

from controller.auth.reservations import Reservations
from controller.ocpp.config_keys import ConfigKeys
from controller.ocpp.outbox import OcppDb
from controller.ocpp.ports import Caller
from controller.ocpp.settings import OcppSettings
from controller.ocpp.tx_watch import TransactionWatch
from controller.smart_charging import ProfileStore
from controller.station import ConnectorStates, Events, Hardware, TransactionBook
from controller.timestamps import utc_iso as utc_iso
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.ocpp.ports import MaintenancePort

log = logging.getLogger(__name__)


class LinkState(StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BOOTING = "booting"
    PENDING = "pending"
    REJECTED = "rejected"
    BOOTED = "booted"


class Timers(Protocol):
    """Every wait of the adapter, so unit tests run it on a fake clock without sleeping."""

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, timeout_s: float | None) -> bool:
        """True if `event` was set before `timeout_s` (None: no timeout) ran out."""


class AsyncioTimers:
    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout_s: float | None) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await event.wait()
        except TimeoutError:
            return False
        return True


@dataclass(eq=False)
class Core:
    settings: OcppSettings
    hardware: Hardware
    profiles: ProfileStore
    clock: Clock
    db: OcppDb
    keys: ConfigKeys
    events: Events
    book: TransactionBook
    connectors: ConnectorStates
    watch: TransactionWatch
    timers: Timers = field(default_factory=AsyncioTimers)
    link_state: LinkState = LinkState.OFFLINE
    boot_status: str | None = None
    session: Caller | None = None
    """Set once the boot was accepted on the current connection; None while offline."""
    link_session: Caller | None = None
    """The current connection's session, accepted or not (a Pending charger still sends what
    TriggerMessage asks for)."""
    outbox_event: asyncio.Event = field(default_factory=asyncio.Event)
    heartbeat_changed: asyncio.Event = field(default_factory=asyncio.Event)
    deadlines_changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a reservation or a ConnectionTimeOut wait begins or ends (`reserving`)."""
    reservations: Reservations = field(default_factory=Reservations)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    maintenance: MaintenancePort | None = None
    """Firmware update and diagnostics upload (`firmware_handlers`), set by the app."""

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def caller(self) -> Caller | None:
        """The session to send on, if the link is up and the boot accepted."""
        return self.session if self.boot_status == RegistrationStatus.accepted else None

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s failed: %r", task.get_name(), exc)
