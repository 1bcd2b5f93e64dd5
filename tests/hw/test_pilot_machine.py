"""The pilot state machine on its own, fed CP states on a fake clock: every timing rule."""

from __future__ import annotations

import math

import pytest

from hw.base import CpState
from hw.clock import FakeClock
from hw.iec61851 import CpReading
from hw.pilot import PilotConfig, PilotMode, PilotPhase, PilotSignal, PilotStateMachine

B, C, D, E, F, A = CpState.B, CpState.C, CpState.D, CpState.E, CpState.F, CpState.A
TICK_S = 0.05


class Rig:
    def __init__(self, **config) -> None:
        self.clock = FakeClock()
        self.sm = PilotStateMachine(PilotConfig(**config), self.clock)
        self._cp: CpState = B
        self.low_v: float | None = -12.0
        self.feedback: bool | None = None
        self.status = self.sm.status()

    @property
    def cp(self) -> CpState:
        return self._cp

    @cp.setter
    def cp(self, state: CpState) -> None:
        """The line changes now, and the next reading (taken at once) shows it."""
        self._cp = state
        self.step()

    def step(self):
        low = self.low_v if self.status.signal.mode is PilotMode.PWM else None
        self.status = self.sm.step(CpReading(self._cp, None, low), self.feedback)
        return self.status

    def run(self, seconds: float):
        for _ in range(round(seconds / TICK_S)):
            self.clock.advance(TICK_S)
            self.step()
        return self.status

    def run_until(self, predicate, max_s: float) -> float:
        t = 0.0
        while not predicate(self.status):
            if t > max_s:
                raise AssertionError(f"not within {max_s} s: {self.status}")
            self.clock.advance(TICK_S)
            t += TICK_S
            self.step()
        return t


def started(limit_a: float = 16.0, **config) -> Rig:
    rig = Rig(**config)
    rig.sm.set_limit(limit_a)
    rig.run(3.0)  # start-up hold
    rig.step()
    return rig


def charging(limit_a: float = 16.0, **config) -> Rig:
    rig = started(limit_a, **config)
    rig.cp = C
    rig.run(0.5)
    assert rig.status.contactor_closed and rig.status.phase is PilotPhase.CHARGING
    return rig


def test_start_up_holds_x1_for_3_s():
    rig = Rig()
    rig.sm.set_limit(16)
    rig.run(2.9)
    assert rig.status.signal == PilotSignal.x1() and rig.status.phase is PilotPhase.STARTUP
    rig.run(0.15)
    assert rig.status.signal == PilotSignal.pwm(16)
    assert rig.status.signal.duty_percent == pytest.approx(26.667, abs=0.001)


def test_contactor_closes_only_after_c_is_stable():
    rig = started()
    rig.cp = C
    rig.run(0.2)
    rig.cp = B  # a 200 ms C pulse (ISO 15118-3 wake pattern) does not close
    rig.run(0.5)
    assert not rig.status.contactor_closed
    rig.cp = C
    rig.run(0.45)
    assert not rig.status.contactor_closed
    rig.run(0.05)
    assert rig.status.contactor_closed


def test_c_without_pwm_never_closes():
    rig = started(limit_a=0)
    rig.cp = C  # C1: the car asks, nothing is offered
    rig.run(10)
    assert not rig.status.contactor_closed
    assert rig.status.signal.mode is PilotMode.X1


def test_pause_is_x1_at_once_and_contactor_opens_with_the_car():
    rig = charging()
    rig.sm.set_limit(0)
    rig.step()  # no time has passed
    assert rig.status.signal == PilotSignal.x1()  # never 5 %
    assert rig.status.contactor_closed and rig.status.phase is PilotPhase.STOPPING
    rig.run(1.0)
    rig.cp = B
    rig.step()  # the very reading that shows B opens the contactor
    assert not rig.status.contactor_closed
    assert rig.status.phase is PilotPhase.PAUSED and rig.status.interruptions == 1
    assert not rig.status.ignored_pause


def test_force_open_after_6_s_when_the_car_ignores_the_pause():
    rig = charging()
    rig.sm.set_limit(0)
    rig.step()
    rig.run(5.95)
    assert rig.status.contactor_closed
    rig.run(0.05)
    assert not rig.status.contactor_closed and rig.status.ignored_pause
    assert rig.status.signal == PilotSignal.x1()


@pytest.mark.parametrize("limit_a", [0.0, 0.1, 3.0, 5.99])
def test_limits_under_6_a_pause(limit_a):
    rig = charging()
    rig.sm.set_limit(limit_a)
    rig.step()
    assert rig.status.signal == PilotSignal.x1() and rig.status.offered_a == 0


def test_offer_is_rounded_down_and_capped():
    rig = started(limit_a=16.09)
    assert rig.status.offered_a == 16.0
    rig = started(limit_a=100, max_current_a=20)
    assert rig.status.offered_a == 20.0
    rig = started(limit_a=6.0)
    assert rig.status.offered_a == 6.0
    rig = started(limit_a=7.9, min_current_a=8)
    assert rig.status.signal == PilotSignal.x1()


def test_resume_waits_for_the_minimum_pause():
    rig = charging(min_pause_s=10)
    rig.sm.set_limit(0)
    rig.step()
    rig.cp = B
    rig.run(1)
    rig.sm.set_limit(16)
    rig.run(8.9)  # 9.9 s after the pause began
    assert rig.status.signal == PilotSignal.x1()
    assert "minimum pause" in (rig.status.resume_blocked or "")
    rig.run(0.1)
    assert rig.status.signal == PilotSignal.pwm(16)


def test_duty_changes_at_most_every_5_s_and_the_latest_wins():
    rig = charging(limit_a=16)  # PWM written 0.5 s ago
    writes = [rig.status.signal]
    for limit in (20, 25, 18):
        rig.sm.set_limit(limit)
        rig.run(1.0)
        writes.append(rig.status.signal)
    assert writes == [PilotSignal.pwm(16)] * 4  # 3.5 s after the first write
    t = rig.run_until(lambda s: s.signal.current_a != 16, 2)
    assert rig.status.signal == PilotSignal.pwm(18)
    assert t == pytest.approx(1.5, abs=TICK_S + 1e-9)  # 5 s after the first write
    rig.sm.set_limit(10)  # a decrease waits too ...
    rig.run(4.9)
    assert rig.status.offered_a == 18
    rig.sm.set_limit(0)  # ... but a pause never does
    rig.step()
    assert rig.status.signal == PilotSignal.x1()


def test_wake_up_once_then_suspended_by_ev():
    rig = started()
    rig.run(29.9)
    assert rig.status.signal == PilotSignal.pwm(16)
    rig.run(0.1)
    assert rig.status.phase is PilotPhase.WAKE_F and rig.status.signal == PilotSignal.f()
    rig.cp = F  # we generate -12 V: the reading says nothing about the car
    rig.run(3.95)
    assert rig.status.fault is None and rig.status.vehicle_state is B
    rig.run(0.05)
    assert rig.status.signal == PilotSignal.x1()
    rig.cp = B
    rig.run(0.7)
    assert rig.status.signal == PilotSignal.x1()
    rig.run(0.05)
    assert rig.status.signal == PilotSignal.pwm(16)
    rig.run(9.95)
    assert not rig.status.suspended_by_ev
    rig.run(0.05)
    assert rig.status.suspended_by_ev
    rig.run(120)  # one wake-up per offer
    assert rig.status.signal == PilotSignal.pwm(16) and rig.status.suspended_by_ev


def test_car_that_charges_after_the_wake_up():
    rig = started()
    rig.run(30 + 4 + 0.75)
    rig.cp = C
    rig.run(0.5)
    assert rig.status.contactor_closed and not rig.status.suspended_by_ev


def test_car_stopping_by_itself_opens_the_contactor_and_is_not_woken():
    rig = charging()
    rig.cp = B
    rig.step()
    assert not rig.status.contactor_closed
    assert rig.status.signal == PilotSignal.pwm(16) and rig.status.interruptions == 0
    rig.run(60)
    assert rig.status.signal == PilotSignal.pwm(16)  # no wake-up: the car decided


def test_after_the_cap_resuming_waits_longer():
    rig = charging(max_interruptions_per_session=2, capped_min_pause_s=300, min_pause_s=10)
    for n in (1, 2):
        rig.sm.set_limit(0)
        rig.cp = B
        rig.step()
        assert rig.status.interruptions == n
        rig.sm.set_limit(16)
        if n == 1:
            rig.run(10)
            assert rig.status.signal == PilotSignal.pwm(16)
            rig.cp = C
            rig.run(0.5)
    rig.run(299)
    assert rig.status.signal == PilotSignal.x1()
    assert "cap 2" in (rig.status.resume_blocked or "")
    rig.run(1.05)
    assert rig.status.signal == PilotSignal.pwm(16)


def test_unplug_resets_the_session():
    rig = charging()
    rig.sm.set_limit(0)
    rig.cp = B
    rig.step()
    rig.cp = A
    rig.step()
    assert rig.status.phase is PilotPhase.IDLE and rig.status.interruptions == 0
    rig.sm.set_limit(16)
    rig.cp = B
    rig.step()  # new session: no minimum pause left over
    assert rig.status.signal == PilotSignal.pwm(16)


def test_unplug_while_charging_opens_at_once():
    rig = charging()
    rig.cp = A
    rig.step()
    assert not rig.status.contactor_closed and rig.status.signal == PilotSignal.x1()


def test_state_d_is_a_fault_by_default():
    rig = charging()
    rig.cp = D
    rig.step()
    assert not rig.status.contactor_closed
    assert rig.status.signal == PilotSignal.f() and "state D" in (rig.status.fault or "")
    rig.run(0.3)
    assert rig.status.signal == PilotSignal.x1()
    rig.cp = B
    rig.run(29.9)
    assert rig.status.fault is not None
    rig.run(0.15)
    assert rig.status.fault is None
    rig.sm.set_limit(16)
    rig.step()
    assert rig.status.signal == PilotSignal.pwm(16)


def test_state_d_charges_with_ventilation():
    rig = started(ventilation_supported=True)
    rig.cp = D
    rig.run(0.5)
    assert rig.status.contactor_closed and rig.status.fault is None


@pytest.mark.parametrize(("state", "text"), [(E, "state E"), (F, "-12 V")])
def test_e_or_unexpected_f_is_a_fault(state, text):
    rig = charging()
    rig.cp = state
    rig.step()
    assert not rig.status.contactor_closed and text in (rig.status.fault or "")


def test_unplug_clears_a_fault():
    rig = charging()
    rig.cp = D
    rig.run(1)
    rig.cp = A
    rig.step()
    assert rig.status.fault is None and rig.status.phase is PilotPhase.IDLE


def test_diode_check_during_pwm_only():
    rig = started()
    rig.low_v = -5.0  # no diode: the low level does not reach -12 V
    rig.run(0.05)
    assert rig.status.fault is None  # readings right after the PWM came on are not judged
    rig.run(0.1)
    assert "diode check failed" in (rig.status.fault or "")
    rig = started(limit_a=0)
    rig.low_v = -5.0
    rig.run(1)
    assert rig.status.fault is None


def test_welded_contactor_is_a_fault_after_the_feedback_timeout():
    rig = charging()
    rig.feedback = True
    rig.sm.set_limit(0)
    rig.cp = B
    rig.step()
    assert not rig.status.contactor_closed and rig.status.fault is None
    rig.run(0.45)
    assert rig.status.fault is None  # the contact may lag
    rig.run(0.05)
    assert "welded" in (rig.status.fault or "")
    rig.run(60)
    assert rig.status.fault is not None  # stays while the feedback disagrees
    rig.feedback = False
    rig.run(30.05)
    assert rig.status.fault is None


def test_contactor_that_does_not_close():
    rig = started()
    rig.feedback = False
    rig.cp = C
    rig.run(0.5)
    assert rig.status.contactor_closed  # commanded; the feedback is checked from now on
    rig.run(0.5)
    assert rig.status.fault is None
    rig.run(0.05)
    assert rig.status.fault == "contactor did not close (no feedback)"
    assert not rig.status.contactor_closed


def test_fail_goes_safe_and_clears_after_good_readings():
    rig = charging()
    status = rig.sm.fail("cannot read the CP line")
    assert not status.contactor_closed and status.signal == PilotSignal.x1()
    rig.run(29.95)
    assert rig.status.fault == "cannot read the CP line"
    rig.run(0.1)
    assert rig.status.fault is None


def test_restart_starts_over_safely():
    rig = charging()
    rig.sm.restart()
    s = rig.sm.status()
    assert s.phase is PilotPhase.STARTUP and not s.contactor_closed
    assert s.signal == PilotSignal.x1()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_pause_s": -1},
        {"force_open_after_s": math.nan},
        {"min_current_a": 5},
        {"max_current_a": 5.5},
        {"max_current_a": 81},
        {"current_step_a": 0},
        {"poll_interval_s": 0},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ValueError, match="pilot"):
        PilotConfig(**kwargs)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_limits_are_rejected(bad):
    with pytest.raises(ValueError):
        Rig().sm.set_limit(bad)


def test_signal_values():
    assert PilotSignal.x1().duty_percent == 100.0
    assert PilotSignal.f().duty_percent == 0.0
    with pytest.raises(ValueError):
        PilotSignal.pwm(5.0)
    with pytest.raises(ValueError):
        PilotSignal(PilotMode.X1, 16.0)
