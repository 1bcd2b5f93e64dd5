"""The demo's timeline: one row a second of what the pilot offers, what the car shows and draws,
and what the CSMS is told, for a person to follow and for the summary to check."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from controller.app import Charger
from hw.sim import SimulatedEv


@dataclass(slots=True)
class Row:
    t_s: float
    offered_a: float
    drawn_a: float
    cp_state: str
    ocpp_status: str
    limit: str
    event: str = ""


@dataclass
class Story:
    rows: list[Row] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    transaction_id: int | str | None = None  # 2.0.1's ids are strings
    energy_wh: float = 0.0


class Timeline:
    """Samples the charger once a second and prints a line for a person to follow."""

    HEADER = f"{'time':>6}  {'offered':>8}  {'drawn':>7}  {'car':>3}  {'OCPP status':<14} limit"

    def __init__(self, charger: Charger, story: Story, out: Any, started: float) -> None:
        self._charger = charger
        self._story = story
        self._out = out
        self._t0 = started
        self._pending_event = ""

    def mark(self, text: str) -> None:
        t = time.monotonic() - self._t0
        self._story.events.append((t, text))
        print(f"{t:6.1f}  >>> {text}", file=self._out, flush=True)

    def sample(self) -> Row:
        doc = self._charger.status_document()["connectors"][0]
        lim = doc.get("limit") or {}
        src = lim.get("source")
        limit = "-" if lim.get("value") is None else f"{lim['value']:.1f} A"
        if src:
            limit += f" (profile {src['profile_id']}, stack level {src['stack_level']})"
        if doc.get("limit_explanation"):
            limit = str(doc["limit_explanation"])
        # What the car shows and what it draws are read from the car itself in one instant:
        # the meter is polled once a second on its own, so its last reading can belong to the
        # moment before the car stopped (state B next to 32 A).
        ev = self._charger.hardware[1].ev
        if isinstance(ev, SimulatedEv):
            ev.step()
            drawn_a, cp_state = ev.drawn_current_a, ev.cp_state.value
        else:
            drawn_a, cp_state = float(doc.get("drawn_a") or 0.0), str(doc.get("cp_state") or "-")
        return Row(
            t_s=time.monotonic() - self._t0,
            offered_a=float(doc.get("offered_a") or 0.0),
            drawn_a=float(drawn_a),
            cp_state=cp_state,
            ocpp_status=str(doc.get("ocpp_status") or "-"),
            limit=limit,
        )

    def emit(self) -> Row:
        """Sample now, keep the row and print it."""
        row = self.sample()
        self._story.rows.append(row)
        print(
            f"{row.t_s:6.1f}  {row.offered_a:6.1f} A  {row.drawn_a:5.1f} A  {row.cp_state:>3}  "
            f"{row.ocpp_status:<14} {row.limit}",
            file=self._out,
            flush=True,
        )
        return row

    async def run(self) -> None:
        print(self.HEADER, file=self._out, flush=True)
        while True:
            self.emit()
            await asyncio.sleep(1.0 - ((time.monotonic() - self._t0) % 1.0))
