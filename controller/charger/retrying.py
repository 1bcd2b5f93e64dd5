"""A connector whose hardware is not there yet: Faulted, retried, recovered without a restart.

A board that is unplugged or a USB adapter that is missing at start-up used to end the service,
and systemd restarted it over and over: the CSMS never heard of the problem and the other
connectors did not charge either. This driver stands in for the real one instead: it reports
the connector Faulted with the reason, opens and starts the hardware again every few seconds,
and hands over to the real driver once it answers. Nothing is driven meanwhile, so there is
nothing to make unsafe; the hardware's own start puts it in the safe state first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from hw.base import (
    Capabilities,
    CpState,
    EvseDriver,
    EvseStatus,
    Fault,
    FaultKind,
    PhaseSwitching,
    Polled,
)
from hw.clock import Clock
from hw.errors import HardwareError
from hw.phase_switch import SwitchReport

log = logging.getLogger(__name__)

RETRY_S = 5.0
_LOG_EVERY = 60  # failed attempts between repeated log lines (about every 5 minutes)


class RetryingDriver:
    def __init__(
        self,
        connector_id: int,
        build: Callable[[], EvseDriver],
        capabilities: Capabilities,
        clock: Clock,
        retry_s: float = RETRY_S,
    ) -> None:
        self.connector_id = connector_id
        self._build = build
        self._capabilities = capabilities
        self._clock = clock
        self._retry_s = retry_s
        self._real: EvseDriver | None = None
        self._started = False
        self._fault: str | None = None
        self._failures = 0
        self._next_try = 0.0
        self._wanted_a = 0.0
        try:  # build now, so that connectors on one line share its bus from the start
            self._real = build()
        except HardwareError:
            self._real = None  # reported and retried by start()

    @property
    def capabilities(self) -> Capabilities:
        return self._real.capabilities if self._real is not None else self._capabilities

    @property
    def fault(self) -> str | None:
        """Why the hardware is not in use yet; None once it is."""
        return self._fault

    @property
    def hardware(self) -> EvseDriver | None:
        """The real driver once it could be built."""
        return self._real

    @property
    def phases_in_use(self) -> int:
        """`hw.base.PhaseSwitching`, passed on: without it the loop would never ask a wrapped
        driver (a Pi's relay, a Modbus board's) to switch phases."""
        real: object = self._real
        if isinstance(real, PhaseSwitching):
            return real.phases_in_use
        return self.capabilities.phases

    def request_phases(self, phases: int) -> None:
        real: object = self._real
        if isinstance(real, PhaseSwitching):
            real.request_phases(phases)

    def phase_switch_report(self) -> SwitchReport | None:
        report = getattr(self._real, "phase_switch_report", None)
        return None if report is None else cast("SwitchReport | None", report())

    def poll_interval_s(self) -> float:
        """The real driver's own polling needs; while the hardware is missing, once a second
        is enough to notice it come back (the retry itself waits `retry_s`)."""
        real: object = self._real
        if self._started and isinstance(real, Polled):
            return real.poll_interval_s()
        return 1.0

    async def start(self) -> None:
        await self._attempt()

    async def _attempt(self) -> None:
        try:
            if self._real is None:
                self._real = self._build()
            await self._real.start()
        except HardwareError as exc:
            self._failures += 1
            self._fault = f"hardware unavailable: {exc}"
            self._next_try = self._clock.monotonic() + self._retry_s
            if self._failures == 1 or self._failures % _LOG_EVERY == 0:
                log.error(
                    "connector %d: %s; reported Faulted, retrying every %.0f s",
                    self.connector_id,
                    self._fault,
                    self._retry_s,
                )
            return
        if self._failures:
            log.warning(
                "connector %d: hardware answers after %d failed attempts",
                self.connector_id,
                self._failures,
            )
        self._started = True
        self._fault = None
        self._failures = 0
        if self._wanted_a > 0:
            await self._real.set_limit(self._wanted_a)

    async def set_limit(self, limit_a: float) -> None:
        self._wanted_a = limit_a
        if self._started and self._real is not None:
            await self._real.set_limit(limit_a)

    async def poll(self) -> EvseStatus:
        if not self._started and self._clock.monotonic() >= self._next_try:
            await self._attempt()
        if not self._started or self._real is None:
            fault = None if self._fault is None else Fault(FaultKind.IO, self._fault)
            return EvseStatus(
                cp_state=CpState.F, offered_a=0.0, contactor_closed=False, fault=fault
            )
        return await self._real.poll()

    async def safe_state(self) -> None:
        if self._real is not None:
            await self._real.safe_state()

    async def close(self) -> None:
        if self._real is not None:
            await self._real.close()
