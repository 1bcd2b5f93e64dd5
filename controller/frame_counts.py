"""What the link to the central system has carried: frames each way and when, and the last
security events, for `status`, the dashboard's link panel and /metrics.

Shared by both OCPP adapters' request handlers, which the sessions tell of every frame.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from controller.timestamps import utc_iso


class FrameCounts:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.frames_received = 0
        self.frames_rejected = 0
        self.frames_sent = 0
        self.last_received_at: datetime | None = None
        self.last_sent_at: datetime | None = None
        self.first_sent = asyncio.Event()
        """Set once the first frame (the BootNotification) has gone out: what may wait starts."""

    def frame_counted(self, accepted: bool) -> None:
        if accepted:
            self.frames_received += 1
            self.last_received_at = self._now()
        else:
            self.frames_rejected += 1

    def frame_sent(self) -> None:
        self.frames_sent += 1
        self.last_sent_at = self._now()
        self.first_sent.set()

    def activity(self, recent: RecentEvents) -> dict[str, Any]:
        """The link's fields of the status document (`csms`), the same for both versions."""
        return {
            "frames_sent": self.frames_sent,
            "last_sent": None if self.last_sent_at is None else utc_iso(self.last_sent_at),
            "last_received": None
            if self.last_received_at is None
            else utc_iso(self.last_received_at),
            "security_events": recent.document(),
        }


class RecentEvents:
    """The last security events raised since start, for status and the page; a run of one kind
    (a CSMS refusing us at every reconnect) is one entry with a repeat count. Memory only: the
    queued SecurityEventNotifications are what is durable."""

    def __init__(self, keep: int = 10) -> None:
        self._items: deque[tuple[str, str, str | None, int]] = deque(maxlen=keep)

    def add(self, kind: str, at: str, info: str | None) -> None:
        items = self._items
        repeats = items.pop()[3] + 1 if items and items[-1][0] == kind else 1
        items.append((kind, at, info, repeats))

    def document(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "time": at, "info": info, "count": count}
            for kind, at, info, count in self._items
        ]
