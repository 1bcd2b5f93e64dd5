"""The pilot state machine's rules for a plugged-in session: offer, pause, resume, wake-up.

Separate from the fault latch (`hw.pilot_faults`) and the machine's inputs (`hw.pilot`) because
this is where the timing rules of the team reference live, and they are read and tuned on their
own: pausing is immediate and the contactor follows the car out of C (or is forced open after
`force_open_after_s`); resuming waits for the minimum pause (longer once the session has been
interrupted `max_interruptions_per_session` times); duty changes are rate-limited; a car that
does not draw gets one wake-up (F, X1, PWM) and is then reported as suspended by the EV. Pure
functions of (state, settings, now).
"""

from __future__ import annotations

import math

from hw.base import CpState, PilotSignal
from hw.pilot_config import PilotConfig
from hw.pilot_state import EPSILON_S, PilotState, elapsed, log
from hw.pilot_status import STATE_F, X1, PilotPhase

_OFFERING = (PilotPhase.OFFERING, PilotPhase.CHARGING, PilotPhase.WAKE_F, PilotPhase.WAKE_X1)


def unplugged(st: PilotState, now: float) -> None:
    """The car has gone: safe outputs and a fresh session count."""
    if st.phase not in (PilotPhase.IDLE, PilotPhase.STARTUP):
        log.info("car unplugged; session reset")
    st.contactor = False
    st.set_signal(X1, now)
    st.interruptions = 0
    st.suspended_by_ev = False
    st.pause_started_at = None
    st.offer_since = None
    st.wake_done = False
    st.wake_ended_at = None
    st.c_since = None
    st.cap_warned = False
    st.ignored_pause = False
    st.enter(PilotPhase.IDLE, now)


def start_session(st: PilotState, now: float) -> None:
    log.info("car plugged in (state %s)", st.vehicle)
    st.interruptions = 0
    st.suspended_by_ev = False
    st.enter(PilotPhase.PAUSED, now)


def wanted_a(st: PilotState, cfg: PilotConfig) -> float:
    """The current to offer for the wanted limit: 0 means pause."""
    step = cfg.current_step_a
    capped = min(st.limit_a, cfg.max_current_a)
    offer = math.floor(capped / step + 1e-9) * step
    offer = round(offer, 6)
    return offer if offer >= cfg.min_current_a else 0.0


def resume_blocked(st: PilotState, cfg: PilotConfig, now: float, wanted: float) -> str | None:
    """Why a paused session may not be offered `wanted` A yet, or None if it may."""
    if wanted < cfg.min_current_a + cfg.resume_hysteresis_a:
        return f"limit below {cfg.min_current_a + cfg.resume_hysteresis_a:g} A"
    if st.pause_started_at is not None:
        capped = _capped(st, cfg)
        min_pause_s = cfg.capped_min_pause_s if capped else cfg.min_pause_s
        left = min_pause_s - (now - st.pause_started_at)
        if left > EPSILON_S:
            why = (
                f"paused {st.interruptions} times this session "
                f"(cap {cfg.max_interruptions_per_session})"
                if capped
                else "minimum pause"
            )
            return f"{why}, {left:.1f} s left"
    return None


def _capped(st: PilotState, cfg: PilotConfig) -> bool:
    cap = cfg.max_interruptions_per_session
    return bool(cap) and st.interruptions >= cap


def _charge_state(st: PilotState, cfg: PilotConfig) -> bool:
    if st.vehicle is CpState.C:
        return True
    return st.vehicle is CpState.D and cfg.ventilation_supported


def _pause(st: PilotState, now: float) -> None:
    """Withdraw the offer at once; the contactor follows when the car has stopped."""
    st.set_signal(X1, now)
    st.interruptions += 1
    st.pause_started_at = now
    st.offer_since = None
    st.c_since = None
    st.suspended_by_ev = False
    log.info("pilot paused (X1), interruption %d of this session", st.interruptions)
    st.enter(PilotPhase.STOPPING if st.contactor else PilotPhase.PAUSED, now)


def _offer(st: PilotState, wanted: float, now: float) -> None:
    st.set_signal(PilotSignal.pwm(wanted), now)
    st.offer_since = now
    st.wake_done = False
    st.wake_ended_at = None
    st.c_since = None
    st.suspended_by_ev = False
    st.enter(PilotPhase.OFFERING, now)


def _update_duty(st: PilotState, cfg: PilotConfig, wanted: float, now: float) -> None:
    if wanted == st.signal.current_a:
        return
    last = st.last_duty_write
    spacing_s = cfg.pwm_min_update_interval_s
    if wanted < st.signal.current_a:
        spacing_s = min(spacing_s, cfg.decrease_min_interval_s)
    if last is not None and not elapsed(last, now, spacing_s):
        return  # coalesced: the latest limit is applied when the interval is over
    st.set_signal(PilotSignal.pwm(wanted), now)


def step_session(st: PilotState, cfg: PilotConfig, now: float) -> None:
    """One step of a plugged-in session that is not in a fault."""
    wanted = wanted_a(st, cfg)
    phase = st.phase

    if phase in _OFFERING and wanted == 0.0:
        _pause(st, now)
        phase = st.phase

    if phase is PilotPhase.STOPPING:
        if not _charge_state(st, cfg):
            st.contactor = False
            st.enter(PilotPhase.PAUSED, now)
        elif elapsed(st.phase_since, now, cfg.force_open_after_s):
            log.warning(
                "car ignored the pause for %.1f s; contactor opened under load",
                now - st.phase_since,
            )
            st.ignored_pause = True
            st.contactor = False
            st.enter(PilotPhase.PAUSED, now)
        phase = st.phase

    if phase is PilotPhase.PAUSED:
        blocked = resume_blocked(st, cfg, now, wanted)
        if blocked is None:
            _offer(st, wanted, now)
        elif _capped(st, cfg) and not st.cap_warned:
            log.warning("pilot resumes slower: %s", blocked)
            st.cap_warned = True
        return

    if phase is PilotPhase.WAKE_F:
        if elapsed(st.phase_since, now, cfg.wake_f_s):
            st.set_signal(X1, now)
            st.enter(PilotPhase.WAKE_X1, now)
        return

    if phase is PilotPhase.WAKE_X1:
        if elapsed(st.phase_since, now, cfg.wake_x1_s):
            st.set_signal(PilotSignal.pwm(wanted), now)
            st.wake_ended_at = now
            st.c_since = None
            st.enter(PilotPhase.OFFERING, now)
        return

    if phase is PilotPhase.CHARGING:
        if not _charge_state(st, cfg):
            # The car stopped by itself: open within the 100 ms the standard allows, keep
            # offering. No wake-up: the car decided.
            log.info("car left C while charging; contactor opened, offer kept")
            st.contactor = False
            st.wake_done = True
            st.c_since = None
            st.enter(PilotPhase.OFFERING, now)
        else:
            _update_duty(st, cfg, wanted, now)
        return

    if phase is PilotPhase.OFFERING:
        _update_duty(st, cfg, wanted, now)
        if _charge_state(st, cfg):
            if st.c_since is None:
                st.c_since = now
            if elapsed(st.c_since, now, cfg.c_enter_debounce_s):
                st.contactor = True
                st.suspended_by_ev = False
                st.wake_done = False
                st.enter(PilotPhase.CHARGING, now)
            return
        st.c_since = None
        if (
            cfg.wake_up_enabled
            and not st.wake_done
            and st.offer_since is not None
            and elapsed(st.offer_since, now, cfg.wake_after_s)
        ):
            log.info("no charge request %.0f s after the offer: wake-up", cfg.wake_after_s)
            st.wake_done = True
            st.set_signal(STATE_F, now)
            st.enter(PilotPhase.WAKE_F, now)
            return
        if (
            st.wake_ended_at is not None
            and not st.suspended_by_ev
            and elapsed(st.wake_ended_at, now, cfg.wake_give_up_s)
        ):
            log.info("car does not draw after the wake-up: suspended by EV")
            st.suspended_by_ev = True
