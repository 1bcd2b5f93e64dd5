"""Time as a dependency, so every timer in the pilot state machine and the simulator runs on a
fake clock in tests and on the wall clock in the service.

`monotonic()` drives timeouts (immune to the CSMS correcting the wall clock); `now()` is the
aware-UTC wall time used for timestamps and schedules.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clocks of the machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; both readings advance together."""

    def __init__(self, start: datetime | None = None, monotonic_s: float = 1000.0) -> None:
        self._now = start or datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._mono = monotonic_s

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(
                "time only moves forward on a FakeClock; use jump_wall() for wall steps"
            )
        self._mono += seconds
        self._now += timedelta(seconds=seconds)

    def jump_wall(self, seconds: float) -> None:
        """Step the wall clock only, as an NTP or CSMS correction does."""
        self._now += timedelta(seconds=seconds)
