"""The page's 24-hour schedule follows a local pause at once: pausing keeps the limit source
`local_cap`, so the feed must also watch the local controls, not only the limit and source."""

from typing import Any

from controller.web.stream import Feed


class _View:
    def __init__(self) -> None:
        self.asked = 0

    def composite_schedule(self, connector_id: int, duration_s: int) -> list[tuple[float, float]]:
        self.asked += 1
        return [(0.0, 0.0)]


def _doc(paused: bool) -> dict[str, Any]:
    return {
        "connectors": [
            {
                "id": 1,
                "limit": 10.0,
                "limit_source": "local_cap",
                "local": {"cap_a": 10.0, "paused": paused},
            }
        ]
    }


def test_a_local_pause_refreshes_the_schedule_at_once() -> None:
    view = _View()
    feed = Feed(view, dict, lambda: 0.0)  # type: ignore[arg-type]
    feed._publish(_doc(False), 100.0)
    assert view.asked == 1
    feed._publish(_doc(False), 101.0)
    assert view.asked == 1  # nothing changed, not due yet
    feed._publish(_doc(True), 102.0)
    assert view.asked == 2
