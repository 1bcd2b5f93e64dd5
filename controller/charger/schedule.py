"""When the control loop wakes: pure arithmetic on the clocks, no I/O.

Polls are put on a grid of the wall clock (multiples of each driver's interval), so polls of the
same interval on different connectors, the meter reads and the whole-second evaluation fall on
the same instants and share one wake-up of the process.
"""

from __future__ import annotations

from collections.abc import Iterable

# Two polls of one driver closer than this are one poll too many (see to_grid).
MIN_GAP_S = 0.005
# A deadline within this much counts as reached: a sleep ends a little early or late, and
# summed float ticks drift.
SLACK_S = 0.002


def to_grid(wall_s: float, interval_s: float) -> float:
    """Seconds from `wall_s` to the next multiple of `interval_s` on the wall clock.

    Never more than `MIN_GAP_S` over the interval (the drivers' timing rules rely on it), and
    never a few milliseconds: a poll made just before a grid point is not repeated right after.
    """
    phase = wall_s % interval_s
    if interval_s - phase < SLACK_S:
        phase = 0.0  # on the grid point, give or take the float error
    wait = interval_s - phase
    return wait + interval_s if wait < MIN_GAP_S else wait


def is_due(deadline_mono: float | None, mono: float) -> bool:
    return deadline_mono is None or deadline_mono <= mono + SLACK_S


def next_wake(mono: float, wall_s: float, deadlines_mono: Iterable[float | None]) -> float:
    """The earliest of the deadlines and the next whole second of the wall clock (monotonic)."""
    wake = mono + 1.0 - (wall_s % 1.0)
    for deadline in deadlines_mono:
        if deadline is not None:
            wake = min(wake, deadline)
    return max(mono, wake)


def driver_interval_s(driver: object, default_s: float) -> float:
    """How long a driver may go unpolled: its own answer if it is `hw.base.Polled`.

    The same test as isinstance(driver, Polled), without the runtime protocol check's cost
    (about 20 us, twenty times a second while a direct pilot charges)."""
    asked = getattr(driver, "poll_interval_s", None)
    return max(0.01, float(asked())) if callable(asked) else default_s
