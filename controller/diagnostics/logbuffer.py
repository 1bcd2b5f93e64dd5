"""The service's recent log lines in memory, for diagnostics when there is no journal."""

from __future__ import annotations

import collections
import logging
from datetime import UTC, datetime

CAPACITY = 20_000  # a day of an ordinary service's log fits in a few MB


class RecentLog(logging.Handler):
    """Keeps (time, line) of the last CAPACITY records of every logger."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[tuple[datetime, str]] = collections.deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a log line must never break the service
            return
        self.lines.append((datetime.fromtimestamp(record.created, UTC), line))

    def window(self, since: datetime | None, until: datetime | None) -> list[str]:
        return [
            f"{at.isoformat(timespec='milliseconds')} {line}"
            for at, line in list(self.lines)
            if (since is None or at >= since) and (until is None or at <= until)
        ]


_installed: RecentLog | None = None


def recent_log() -> RecentLog:
    """The process-wide buffer, attached to the root logger on first use."""
    global _installed
    if _installed is None:
        _installed = RecentLog()
        logging.getLogger().addHandler(_installed)
    return _installed
