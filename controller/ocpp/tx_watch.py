"""What holds a transaction back: no meterStart yet, or a start the CSMS has not accepted.

Pure bookkeeping per connector (time passed in), so the service only asks and acts: wait for a
meter reading before StartTransaction, and pause a session the CSMS cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.ocpp.transactions import (
    METER_START_WAIT_S,
    MeterStartSource,
    choose_meter_start,
    start_overdue,
)

NO_METER_TEXT = "meter never read: no meterStart, not starting"
UNCONFIRMED_TEXT = "paused: the CSMS has not accepted the StartTransaction"


@dataclass(frozen=True, slots=True)
class MeterStartDecision:
    energy_wh: float | None
    source: MeterStartSource
    newly_missing: bool  # the wait just ran out with nothing to use: say so, once


class TransactionWatch:
    def __init__(self, grace_s: float, meter_wait_s: float = METER_START_WAIT_S) -> None:
        self._grace_s = grace_s
        self._meter_wait_s = meter_wait_s
        self._meter_deadline: dict[int, float] = {}
        self._missing: set[int] = set()
        self._unconfirmed_since: dict[int, float] = {}
        self._link_up_mono = 0.0

    # --- meterStart ---------------------------------------------------------------------

    def meter_start(
        self, connector_id: int, fresh_wh: float | None, persisted_wh: float | None, mono: float
    ) -> MeterStartDecision:
        deadline = self._meter_deadline.setdefault(connector_id, mono + self._meter_wait_s)
        choice = choose_meter_start(fresh_wh, persisted_wh, mono >= deadline)
        if choice.energy_wh is None:
            newly = mono >= deadline and connector_id not in self._missing
            if newly:
                self._missing.add(connector_id)
            return MeterStartDecision(None, choice.source, newly)
        self.forget_wait(connector_id)
        return MeterStartDecision(choice.energy_wh, choice.source, False)

    def forget_wait(self, connector_id: int) -> None:
        """The start no longer wants to happen (unplugged, stopped, not authorised)."""
        self._meter_deadline.pop(connector_id, None)
        self._missing.discard(connector_id)

    def waiting(self) -> list[int]:
        return list(self._meter_deadline)

    def meter_missing(self, connector_id: int) -> bool:
        return connector_id in self._missing

    # --- the CSMS's acceptance ----------------------------------------------------------

    def started(self, connector_id: int, mono: float) -> None:
        self._unconfirmed_since[connector_id] = mono

    def confirmed(self, connector_id: int) -> None:
        self._unconfirmed_since.pop(connector_id, None)

    def link_up(self, mono: float) -> None:
        """The grace counts only while the CSMS could have answered: it restarts on connect."""
        self._link_up_mono = mono

    def overdue(self, connector_id: int, *, link_up: bool, mono: float) -> bool:
        since = self._unconfirmed_since.get(connector_id)
        return start_overdue(
            confirmed=since is None,
            link_up=link_up,
            waiting_since_mono=max(since or mono, self._link_up_mono),
            now_mono=mono,
            grace_s=self._grace_s,
        )

    def reason(self, connector_id: int, *, link_up: bool, mono: float) -> str | None:
        if self.overdue(connector_id, link_up=link_up, mono=mono):
            return UNCONFIRMED_TEXT
        if connector_id in self._missing:
            return NO_METER_TEXT
        return None
