"""The control loop: the one place where the smart-charging limit becomes current offered to a car.

It re-evaluates every connector once a second, aligned to the wall clock, and at once on every
event (profile set or cleared, transaction start or stop, a car changing state, the wall clock
stepping). Between evaluations it polls each driver when it asks (`hw.base.Polled`): a direct
pilot every 50 ms while its contactor is closed (open within 100 ms of C -> B), far less often
while idle; a Modbus board about once a second; others every `poll_interval_s`. Polls, meter
reads, the evaluation and `on_second` readers share wall-clock grid points, so wake-ups.

What a connector is offered is decided in `targets` (the minimum of its smart-charging limit,
its rating, the cable, the driver, the main-fuse guard's cap and its share of the station
supply; nothing without a permitted transaction; anything under the minimum current pauses);
its meter task and the safe state on the way out are in `unit_io`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime

from controller.charger.binding import LimitSource
from controller.charger.main_fuse import MainFuse
from controller.charger.schedule import driver_interval_s, is_due, next_wake, to_grid
from controller.charger.targets import offered_targets
from controller.charger.unit import ConnectorUnit as ConnectorUnit  # re-exported
from controller.charger.unit_io import meter_task, safe, shutdown_units
from controller.smart_charging import ProfileStore
from hw.base import CpState, EvseStatus, Fault, FaultKind
from hw.clock import Clock
from hw.errors import HardwareError
from hw.modbus_budget import METER_POLL_INTERVAL_S

log = logging.getLogger(__name__)

# A wall clock that moves this much more (or less) than the monotonic clock has stepped.
CLOCK_STEP_S = 2.0


class ControlLoop:
    def __init__(
        self,
        units: Sequence[ConnectorUnit],
        profiles: ProfileStore,
        clock: Clock,
        *,
        permit: Callable[[int], bool],
        held_back: Callable[[int], LimitSource | None] = lambda _cid: None,
        session_start: Callable[[int], datetime | None],
        on_change: Callable[[int], None],
        station_max_a: float | None = None,
        min_current_a: float = 6.0,
        poll_interval_s: float = 0.1,
        meter_interval_s: float = METER_POLL_INTERVAL_S,
        local_cap_a: Callable[[int], float | None] = lambda _cid: None,
        main_fuse: MainFuse | None = None,
    ) -> None:
        self.units = list(units)
        self._by_id = {u.connector_id: u for u in self.units}
        self._profiles = profiles
        self._clock = clock
        self._permit, self._held_back = permit, held_back
        self._session_start, self._on_change = session_start, on_change
        self._station_max_a, self._min_current_a = station_max_a, min_current_a
        self._poll_interval_s, self._meter_interval_s = poll_interval_s, meter_interval_s
        self._local_cap_a = local_cap_a
        self.main_fuse = main_fuse
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_second: int | None = None
        self._wall_minus_mono: float | None = None
        self.last_tick_mono: float | None = None
        self._polling = False  # the tick awaits a driver's poll
        self._prompt: asyncio.Future[None] | None = None  # a new limit applied meanwhile
        self._applying = asyncio.Lock()
        self.evaluations = 0
        self.started = asyncio.Event()
        # Called after each whole second's tick: the dashboard's feed shares the loop's wake-up.
        self.on_second: list[Callable[[], None]] = []
        profiles.subscribe(self.wake)

    def unit(self, connector_id: int) -> ConnectorUnit:
        return self._by_id[connector_id]

    def wake(self) -> None:
        """Re-evaluate now. Safe to call from any thread."""
        loop = self._loop
        if loop is None:
            self._event.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._woken()
        else:
            loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        self._event.set()
        if self._polling and self._prompt is None:
            # A poll may wait for a shared line (a Modbus board behind meter reads and their
            # gaps): a new limit goes first, not after it.
            self._prompt = asyncio.ensure_future(self._apply_promptly())

    async def _apply_promptly(self) -> None:
        try:
            self._event.clear()
            await self._evaluate_and_apply(self._clock.now())
        finally:
            self._prompt = None

    def set_operative(self, connector_id: int, operative: bool) -> None:
        for u in self.units if connector_id == 0 else [self._by_id[connector_id]]:
            u.operative = operative
        self.wake()

    def healthy(self, max_age_s: float = 5.0) -> bool:
        """True while the loop ticks; the systemd watchdog is fed only then."""
        return (
            self.last_tick_mono is not None
            and self._clock.monotonic() - self.last_tick_mono <= max_age_s
        )

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            for u in self.units:
                await u.driver.start()
            meters = [
                asyncio.create_task(meter_task(u, self._clock, self._meter_interval_s))
                for u in self.units
                if u.meter
            ]
            if self.main_fuse is not None:
                meters.append(asyncio.create_task(self.main_fuse.run(self.wake)))
            try:
                self._event.set()
                while True:
                    await self.tick()
                    self.started.set()
                    await self._sleep_until_next()
            finally:
                for t in meters:
                    t.cancel()
                for t in meters:
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Every output to the safe state; never raises. A limit being applied meanwhile is
        stopped first, so nothing offers current after this."""
        if self._prompt is not None:
            self._prompt.cancel()
            with contextlib.suppress(BaseException):
                await self._prompt
        await shutdown_units(self.units)

    async def tick(self) -> None:
        """Poll every driver, and evaluate and apply the limits when something asks for it."""
        now = self._clock.now()
        mono = self._clock.monotonic()
        woken = self._event.is_set()
        self._event.clear()
        evaluate = woken
        second = math.floor(now.timestamp())
        new_second = second != self._last_second
        if new_second:
            self._last_second = second
            evaluate = True
        offset = now.timestamp() - mono
        if self._wall_minus_mono is not None and abs(offset - self._wall_minus_mono) > CLOCK_STEP_S:
            log.warning(
                "wall clock stepped by %+.0f s: re-evaluating", offset - self._wall_minus_mono
            )
            evaluate = True
        self._wall_minus_mono = offset

        written: set[int] = set()
        if woken:
            # Something asked for a new limit (a profile, a transaction): apply it before the
            # polls, so a pause or a Modbus register write does not queue behind them.
            written = await self._evaluate_and_apply(now)
        # What a driver did with a new limit shows in its next poll; report it now. Drivers
        # not written to are polled only when their interval is up.
        due = [u for u in self.units if is_due(u.next_poll_mono, mono) or u.connector_id in written]
        changed = await self._poll(due, now, mono)
        if changed or (evaluate and not woken):
            written = await self._evaluate_and_apply(now)
            changed |= await self._poll(
                [u for u in self.units if u.connector_id in written], now, mono
            )
        for cid in sorted(changed):
            self._on_change(cid)
        self.last_tick_mono = mono
        if new_second:
            for callback in self.on_second:
                callback()

    def poll_interval_s(self, u: ConnectorUnit) -> float:
        """How long the driver may go unpolled in the state it is in now."""
        return driver_interval_s(u.driver, self._poll_interval_s)

    def next_wake_mono(self) -> float:
        """The monotonic time of the next poll or once-a-second evaluation, whichever is first."""
        now = self._clock.now().timestamp()
        return next_wake(self._clock.monotonic(), now, (u.next_poll_mono for u in self.units))

    async def _poll(self, units: Sequence[ConnectorUnit], now: datetime, mono: float) -> set[int]:
        self._polling = True  # a new limit meanwhile is applied at once (see _woken)
        try:
            changed: set[int] = set()
            for u in units:
                u.polls += 1
                try:
                    status = await u.driver.poll()
                    u.last_error = None
                except HardwareError as exc:
                    # Drivers report their own faults in EvseStatus; an exception here means the
                    # driver could not even say what the hardware does.
                    prev = u.status
                    u.last_error = str(exc)
                    status = EvseStatus(
                        cp_state=prev.cp_state if prev else CpState.E,
                        offered_a=0.0,
                        contactor_closed=False,
                        fault=Fault(FaultKind.IO, str(exc)),
                    )
                if status != u.status:
                    u.status = status
                    changed.add(u.connector_id)
                u.next_poll_mono = mono + to_grid(now.timestamp(), self.poll_interval_s(u))
            return changed
        finally:
            self._polling = False
            if self._prompt is not None:
                await asyncio.shield(self._prompt)  # its errors are the tick's

    def targets(self, now: datetime) -> dict[int, float]:
        """The current each connector is to be offered now (0.0 = paused)."""
        return offered_targets(
            self.units,
            self._profiles,
            now,
            self._clock,
            permit=self._permit,
            held_back=self._held_back,
            session_start=self._session_start,
            local_cap_a=self._local_cap_a,
            main_fuse=self.main_fuse,
            station_max_a=self._station_max_a,
            min_current_a=self._min_current_a,
        )

    async def _evaluate_and_apply(self, now: datetime) -> set[int]:
        """Apply the targets that changed; return the connectors whose driver was written to."""
        async with self._applying:  # one evaluation writes to the drivers at a time
            self.evaluations += 1
            written: set[int] = set()
            for cid, target in self.targets(now).items():
                u = self._by_id[cid]
                if target == u.target_a:
                    continue
                written.add(cid)
                try:
                    await u.driver.set_limit(target)
                except HardwareError as exc:
                    u.last_error = str(exc)
                    log.warning("connector %d: could not apply %.1f A: %s", cid, target, exc)
                    if target < self._min_current_a:
                        # A pause that did not reach the hardware: make it safe by other means.
                        await safe(u)
                    u.target_a = None  # unknown now: apply again once the hardware answers
                    continue
                if u.target_a is None or (target == 0.0) != (u.target_a == 0.0):
                    log.info(
                        "connector %d: %s", cid, "paused" if target == 0 else f"offer {target} A"
                    )
                elif target != u.target_a:
                    log.info("connector %d: offer %.1f A", cid, target)
                u.target_a = target
            return written

    async def _sleep_until_next(self) -> None:
        # 1 ms past the deadline, so the tick that wakes finds the poll or the second due.
        timeout = max(0.001, self.next_wake_mono() - self._clock.monotonic() + 0.001)
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that races with its own timeout, and the service would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._event.wait()
