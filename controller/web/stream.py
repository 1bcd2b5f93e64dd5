"""The live feed: one sampler for the whole service, a latest-value mailbox per browser.

The sampler reads the status document once a second, on the control loop's whole-second tick,
and keeps two hours of offered and drawn current for the chart. Each browser gets only the
newest snapshot: a slow or stalled client skips samples instead of queueing them, so it costs
neither memory nor the control loop's time. With no browser connected only the chart's point
is kept; the page's document is made when someone asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from array import array
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from controller.web.controls import StationView

HISTORY_S = 2 * 3600
SCHEDULE_EVERY_S = 10
KEEPALIVE_S = 15.0


def mask_tag(tag: str) -> str:
    """Enough to recognise one's own card, not enough to clone it: AB••••42."""
    if len(tag) <= 4:
        return "•" * len(tag)
    return tag[:2] + "•" * (len(tag) - 4) + tag[-2:]


class LogTail(logging.Handler):
    """The last log lines, for the page; formatting happens only when the page asks."""

    def __init__(self, lines: int = 50) -> None:
        super().__init__(logging.INFO)
        self.records: deque[logging.LogRecord] = deque(maxlen=lines)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for r in list(self.records):
            try:
                msg = r.getMessage()
            except (TypeError, ValueError):  # a bad format string in someone's log call
                msg = str(r.msg)
            out.append({"t": r.created, "level": r.levelname, "name": r.name, "message": msg})
        return out


class History:
    """Offered and drawn current per connector, one point a second for two hours.

    Three arrays of doubles per connector (None kept as NaN): 24 bytes a point, where a deque
    of tuples of floats took about 140, 1 MB per connector once two hours are full. The arrays
    grow to twice the span and are then cut back, so a point costs no copying on average.
    """

    def __init__(self, seconds: int = HISTORY_S) -> None:
        self._seconds = seconds
        self.points: dict[int, tuple[array[float], array[float], array[float]]] = {}

    def add(self, t: float, doc: dict[str, Any]) -> None:
        for c in doc.get("connectors", []):
            cols = self.points.get(c["id"])
            if cols is None:
                cols = self.points[c["id"]] = (array("d"), array("d"), array("d"))
            point = (round(t, 1), c.get("offered_a"), c.get("drawn_a"))
            for col, value in zip(cols, point, strict=True):
                col.append(math.nan if value is None else float(value))
            if len(cols[0]) >= 2 * self._seconds:
                for col in cols:
                    del col[: len(col) - self._seconds]

    def as_json(self) -> dict[str, Any]:
        span = self._seconds
        return {
            str(cid): {
                "t": list(t[-span:]),
                "offered_a": _nullable(offered[-span:]),
                "drawn_a": _nullable(drawn[-span:]),
            }
            for cid, (t, offered, drawn) in self.points.items()
        }


def _nullable(values: array[float]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values]


class Feed:
    def __init__(
        self,
        view: StationView,
        extra: Callable[[], dict[str, Any]],
        clock: Callable[[], float],
        interval_s: float = 1.0,
    ) -> None:
        self._view = view
        self._extra = extra
        self._clock = clock
        self._interval_s = interval_s
        self.history = History()
        self.latest: dict[str, Any] | None = None
        self.schedule: dict[str, list[tuple[float, float]]] = {}
        self._mailboxes: set[asyncio.Queue[str | None]] = set()
        self._schedule_t = float("-inf")
        self._limits: list[Any] = []
        self._tags: set[str] = set()
        self._frames: tuple[int | None, float | None] = (None, None)
        self._link: tuple[str | None, float] = (None, 0.0)
        self._ticked = asyncio.Event()
        self._driven = False
        self._stale = False

    def tick(self) -> None:
        """The control loop has finished a whole second (`ControlLoop.on_second`): sample now,
        in the loop's own wake-up, rather than on a timer of the feed's own."""
        self._driven = True
        self._ticked.set()

    @property
    def clients(self) -> int:
        return len(self._mailboxes)

    def sample(self) -> None:
        """A tick's full sample, sent to every client."""
        self._publish(self._observe(self._view.status_document()), self._clock())

    def observe(self) -> None:
        """A tick with nobody listening: the chart's point, the link's times and the idTags to
        mask are kept; `latest` is made when a client or /api/status asks (`current`)."""
        self._observe(self._view.chart_point())
        self._stale = True

    def current(self) -> dict[str, Any] | None:
        """`latest`, made now if ticks went by without a full sample."""
        if self._stale:
            self._publish(self._view.status_document(), self._clock())
        return self.latest

    def _observe(self, doc: dict[str, Any]) -> dict[str, Any]:
        t = self._clock()
        self.history.add(t, doc)
        csms = doc.get("csms") or {}
        state = csms.get("state")
        if state != self._link[0]:
            self._link = (state, t)
        frames = csms.get("frames_received")
        if frames != self._frames[0]:
            # First sight is not a message: only a change of the counter is.
            self._frames = (frames, t if self._frames[0] is not None else None)
        for c in doc.get("connectors", []):
            tx = c.get("transaction")
            if tx and tx.get("id_tag"):
                self._tags.add(tx["id_tag"])
        return doc

    def _publish(self, doc: dict[str, Any], t: float) -> None:
        self._stale = False
        # A local pause or cap keeps the source `local_cap` but changes the schedule ahead.
        limits = [
            (c.get("limit"), c.get("limit_source"), c.get("local"))
            for c in doc.get("connectors", [])
        ]
        if t - self._schedule_t >= SCHEDULE_EVERY_S or limits != self._limits:
            self.refresh_schedule(doc)
            self._schedule_t = t
        self._limits = limits
        for c in doc.get("connectors", []):
            tx = c.get("transaction")
            if tx and tx.get("id_tag"):
                self._tags.add(tx["id_tag"])
                c["transaction"] = {**tx, "id_tag": mask_tag(tx["id_tag"])}
        extra = self._extra()
        if "log" in extra:
            extra["log"] = [{**r, "message": self.mask(r["message"])} for r in extra["log"]]
        self.latest = {
            **doc,
            **extra,
            "schedule": self.schedule,
            "csms_since": self._link[1],
            "csms_last_received": self._frames[1],
            "t": t,
        }
        if not self._mailboxes:
            return
        text = json.dumps(self.latest, separators=(",", ":"))
        for box in self._mailboxes:
            if box.full():
                box.get_nowait()  # drop the sample this client has not taken yet
            box.put_nowait(text)

    def mask(self, text: str) -> str:
        """Hide the idTags the page has seen (a card number opens the garage) in log lines."""
        for tag in self._tags:
            if tag in text:
                text = text.replace(tag, mask_tag(tag))
        return text

    def refresh_schedule(self, doc: dict[str, Any]) -> None:
        self.schedule = {
            str(c["id"]): self._view.composite_schedule(c["id"], 24 * 3600)
            for c in doc.get("connectors", [])
        }

    def close(self) -> None:
        """End every event stream, so the server can stop without cutting requests."""
        for box in self._mailboxes:
            if box.full():
                box.get_nowait()
            box.put_nowait(None)

    async def run(self) -> None:
        while True:
            try:
                self.sample() if self._mailboxes else self.observe()
            except Exception:
                logging.getLogger(__name__).exception("dashboard sample failed")
            # Right after each whole second's evaluation, so the page is never more than a
            # second behind the charger. Without ticks (or while the loop is stalled), just
            # after each wall-clock second.
            now = self._clock()
            wait_s = self._interval_s - (now % self._interval_s) + 0.05
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s + self._interval_s if self._driven else wait_s):
                    await self._ticked.wait()
            self._ticked.clear()

    async def events(self) -> AsyncIterator[str]:
        box: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1)
        self._mailboxes.add(box)
        try:
            yield "retry: 2000\n\n"
            latest = self.current()
            if latest is not None:
                yield f"data: {json.dumps(latest, separators=(',', ':'))}\n\n"
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_S):
                        text = await box.get()
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if text is None:
                    return
                yield f"data: {text}\n\n"
        finally:
            self._mailboxes.discard(box)
