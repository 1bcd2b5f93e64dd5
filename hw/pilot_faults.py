"""The pilot state machine's fault latch: what counts as a fault, and how one is shown and cleared.

Separate from the session rules (`hw.pilot_session`) because it overrides them all: anything
unexpected (D without ventilation, E, an F we did not generate, a failed diode check, a contactor
that does not follow its command) opens the contactor, shows F for `fault_f_s`, then holds X1
until the cause has been gone for `error_retry_s` (or the car is unplugged). Pure functions of
(state, settings, now).
"""

from __future__ import annotations

from hw.base import CpState, Fault, FaultKind, PilotMode
from hw.iec61851 import CpReading, diode_check_failed
from hw.pilot_config import PilotConfig
from hw.pilot_session import unplugged
from hw.pilot_state import EPSILON_S, PilotState, elapsed, log
from hw.pilot_status import STATE_F, X1, PilotPhase

_CP_FAULT_TEXT = {
    CpState.D: "car shows state D (ventilation required), which this charger does not support",
    CpState.E: "CP shorted to PE or no pilot supply (state E)",
    CpState.F: "CP reads -12 V although the pilot is not in F: check the pilot driver stage",
}


def vehicle_view(
    st: PilotState, cfg: PilotConfig, reading: CpReading, now: float
) -> CpState | None:
    """The reading as evidence about the car, or None when it only shows our own output."""
    if st.signal.mode is PilotMode.F:
        return None
    settling = not elapsed(st.signal_since, now, cfg.output_settle_s)
    if settling and reading.state is CpState.F:
        return None
    return reading.state


def fault_causes(
    st: PilotState,
    cfg: PilotConfig,
    reading: CpReading,
    seen: CpState | None,
    feedback: bool | None,
    now: float,
) -> list[Fault]:
    """Every fault this measurement shows, most telling first (advances the feedback timer)."""
    causes: list[Fault] = []
    if seen is not None:
        if seen is CpState.D and not cfg.ventilation_supported:
            causes.append(Fault(FaultKind.PILOT, _CP_FAULT_TEXT[CpState.D]))
        elif seen in (CpState.E, CpState.F):
            causes.append(Fault(FaultKind.PILOT, _CP_FAULT_TEXT[seen]))
        elif (
            st.signal.mode is PilotMode.PWM
            and elapsed(st.signal_since, now, cfg.output_settle_s)
            and seen in (CpState.B, CpState.C, CpState.D)
            and diode_check_failed(reading.low_v, cfg.bands)
        ):
            causes.append(
                Fault(
                    FaultKind.PILOT,
                    f"diode check failed: CP low level {reading.low_v:.1f} V during PWM "
                    "(car diode missing or shorted)",
                )
            )
    if feedback is None or feedback == st.contactor:
        st.feedback_mismatch_since = None
    else:
        if st.feedback_mismatch_since is None:
            st.feedback_mismatch_since = now
        if elapsed(st.feedback_mismatch_since, now, cfg.contactor_feedback_timeout_s):
            causes.append(
                Fault(
                    FaultKind.CONTACTOR,
                    "contactor welded or stuck closed"
                    if feedback
                    else "contactor did not close (no feedback)",
                )
            )
    return causes


def raise_fault(
    st: PilotState, cfg: PilotConfig, cause: Fault, now: float, *, show_f: bool
) -> None:
    """Latch `cause`: contactor open, offer withdrawn, F for a moment (if `show_f`), then X1."""
    if st.phase is not PilotPhase.FAULT:
        log.warning("pilot fault: %s", cause)
        if st.signal.mode is PilotMode.PWM or st.contactor:
            st.pause_started_at = now
    st.fault = cause
    st.fault_cause_gone_at = None
    st.contactor = False
    st.offer_since = None
    st.c_since = None
    if show_f and cfg.fault_f_s > 0:
        st.set_signal(STATE_F, now)
        st.fault_shown_f_until = now + cfg.fault_f_s
    else:
        st.set_signal(X1, now)
        st.fault_shown_f_until = None
    st.enter(PilotPhase.FAULT, now)


def step_fault(st: PilotState, cfg: PilotConfig, causes: list[Fault], now: float) -> None:
    """Hold the safe outputs; clear the fault once its cause has been gone long enough."""
    st.contactor = False
    if st.fault_shown_f_until is not None and now >= st.fault_shown_f_until - EPSILON_S:
        st.set_signal(X1, now)
        st.fault_shown_f_until = None
    if causes:
        st.fault = causes[0]
        st.fault_cause_gone_at = None
        return
    if st.fault_shown_f_until is not None:
        return
    if st.fault_cause_gone_at is None:
        st.fault_cause_gone_at = now
    if elapsed(st.fault_cause_gone_at, now, cfg.error_retry_s):
        log.info("pilot fault cleared: %s", st.fault)
        st.fault = None
        st.fault_cause_gone_at = None
        if st.vehicle is CpState.A:
            unplugged(st, now)
        else:
            st.enter(PilotPhase.PAUSED, now)
