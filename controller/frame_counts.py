"""What the link to the central system has carried: frames each way and when, for `status`,
the dashboard's link panel and /metrics.

Shared by both OCPP adapters' request handlers, which the sessions tell of every frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime


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
