"""The wake-up arithmetic of the control loop."""

import pytest

from controller.charger.schedule import MIN_GAP_S, is_due, next_wake, to_grid


@pytest.mark.parametrize(
    ("wall_s", "interval_s", "wait_s"),
    [
        (100.0, 0.5, 0.5),  # on a grid point: the next one
        (100.2, 0.5, 0.3),
        (100.497, 0.5, 0.503),  # just before a grid point: not a poll 3 ms later
        (100.499999, 0.5, 0.5),  # float error of summed ticks: on the grid point
        (100.03, 0.05, 0.02),
        (7.0, 1.0, 1.0),
    ],
)
def test_to_grid(wall_s, interval_s, wait_s):
    assert to_grid(wall_s, interval_s) == pytest.approx(wait_s, abs=1e-6)


def test_to_grid_never_waits_much_longer_than_the_interval_nor_a_moment():
    for i in range(2000):
        wall = 1_700_000_000 + i * 0.000731
        for interval in (0.05, 0.5, 1.0):
            wait = to_grid(wall, interval)
            assert MIN_GAP_S <= wait <= interval + MIN_GAP_S


def test_next_wake_is_the_earliest_deadline_or_the_next_second():
    assert next_wake(10.0, 100.25, [None, 10.9]) == pytest.approx(10.75)
    assert next_wake(10.0, 100.25, [10.5, None]) == 10.5
    assert next_wake(10.0, 100.25, [9.0]) == 10.0  # overdue: now
    assert is_due(None, 5.0) and is_due(5.001, 5.0) and not is_due(5.01, 5.0)
