"""What the parts of the 2.0.1 adapter share: the station model, the queue, the link's state.

The same shape as the 1.6 adapter's `Core`, built from the same protocol-free pieces (the
station model, the durable queue, the timers, the link states); only the session differs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from controller.auth import Reservations
from controller.frame_counts import RecentEvents
from controller.ocpp.core import AsyncioTimers, LinkState, Timers
from controller.ocpp.settings import OcppSettings
from controller.ocpp.tx_watch import TransactionWatch
from controller.ocpp201.queue import EventDb
from controller.ocpp201.variables import Variables
from controller.smart_charging import ProfileStore
from controller.station import ConnectorStates, Events, Hardware, TransactionBook
from controller.timestamps import utc_iso
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.ocpp201.session import Session201

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Context:
    settings: OcppSettings
    hardware: Hardware
    profiles: ProfileStore
    clock: Clock
    db: EventDb
    variables: Variables
    events: Events
    connectors: ConnectorStates
    watch: TransactionWatch
    book: TransactionBook | None = None  # set once the journal is built (it needs the flow)
    timers: Timers = field(default_factory=AsyncioTimers)
    link_state: LinkState = LinkState.OFFLINE
    boot_status: str | None = None
    session: Session201 | None = None
    """Set once the boot was accepted on the current connection; None while offline."""
    outbox_event: asyncio.Event = field(default_factory=asyncio.Event)
    heartbeat_changed: asyncio.Event = field(default_factory=asyncio.Event)
    meter_wake: asyncio.Event = field(default_factory=asyncio.Event)
    reservations: Reservations = field(default_factory=Reservations)
    """The held reservations (H), also a start gate of the station."""
    reconnect: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to end the current connection and connect anew (a new password, A01)."""
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    recent_security_events: RecentEvents = field(default_factory=RecentEvents)
    maintenance: Any = None
    """The app's firmware and diagnostics `Maintenance` (1.6's machinery), if set up."""

    @property
    def transactions(self) -> TransactionBook:
        assert self.book is not None, "the service sets the book before anything runs"
        return self.book

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def caller(self) -> Session201 | None:
        """The session to send on, if the link is up and the boot accepted."""
        return self.session if self.boot_status == "Accepted" else None

    def security_event(self, kind: str, info: str | None) -> None:
        """Queued, coalesced and bounded like 1.6's (`OcppDb.enqueue_security_event`), and
        the last ones kept for status and the dashboard (a run of one kind is one entry)."""
        at = utc_iso(self.now())
        self.recent_security_events.add(kind, at, info)
        self.db.enqueue_security_event(kind, at, info)
        self.outbox_event.set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s failed: %r", task.get_name(), exc)
