"""The chart's history: two hours of points per connector, gaps (no reading) kept as null."""

import math

from controller.web.stream import History


def _doc(offered_a, drawn_a):
    return {"connectors": [{"id": 1, "offered_a": offered_a, "drawn_a": drawn_a}]}


def test_the_history_keeps_the_newest_span_and_no_reading_as_null():
    h = History(seconds=100)
    for i in range(250):
        h.add(1000.0 + i, _doc(16.0, None if i % 2 else 15.5))
    chart = h.as_json()["1"]
    assert len(chart["t"]) == len(chart["offered_a"]) == len(chart["drawn_a"]) == 100
    assert chart["t"][0] == 1150.0 and chart["t"][-1] == 1249.0
    assert chart["drawn_a"][:2] == [15.5, None]
    assert all(v == 16.0 for v in chart["offered_a"])
    assert len(h.points[1][0]) < 200  # cut back once twice the span is reached


def test_two_hours_of_one_connector_take_well_under_a_megabyte():
    h = History()
    for i in range(7200):
        h.add(1e9 + i, _doc(16.0 + i % 3, 15.9))
    t, offered, drawn = h.points[1]
    # Three doubles a point; a deque of tuples of floats took about 0.9 MB.
    assert sum(col.itemsize * len(col) for col in (t, offered, drawn)) <= 7200 * 24
    assert not any(math.isnan(x) for x in drawn)
