"""With a grid meter a lower duty follows the last change after 1 s; a raise still waits 5 s."""

import sys
from pathlib import Path

import pytest

from controller.config import make_settings
from controller.drivers import pilot_config
from hw.base import PilotSignal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hw"))
from test_pilot_machine import TICK_S, charging


def test_a_decrease_after_1_s_a_raise_after_5_s():
    rig = charging(limit_a=16, decrease_min_interval_s=1.0)  # PWM written 0.5 s ago
    rig.sm.set_limit(10)
    t = rig.run_until(lambda s: s.signal.current_a != 16, 2)
    assert rig.status.signal == PilotSignal.pwm(10)
    assert t == pytest.approx(0.5, abs=TICK_S + 1e-9)  # 1 s after the first write
    rig.sm.set_limit(8)  # a second decrease: again 1 s after the last write
    t = rig.run_until(lambda s: s.signal.current_a != 10, 2)
    assert t == pytest.approx(1.0, abs=TICK_S + 1e-9)
    rig.sm.set_limit(16)  # a raise keeps the 5 s spacing
    t = rig.run_until(lambda s: s.signal.current_a != 8, 6)
    assert t == pytest.approx(5.0, abs=TICK_S + 1e-9)


def test_the_service_uses_1_s_only_with_a_grid_meter_unless_configured(tmp_path):
    plain = make_settings(state={"dir": tmp_path})
    assert pilot_config(plain, plain.connector[0]).decrease_min_interval_s == 5.0
    guarded = make_settings(
        state={"dir": tmp_path}, station={"main_fuse_a": 25, "grid_meter": {"type": "sim"}}
    )
    assert pilot_config(guarded, guarded.connector[0]).decrease_min_interval_s == 1.0
    chosen = make_settings(
        state={"dir": tmp_path},
        station={"main_fuse_a": 25, "grid_meter": {"type": "sim"}},
        pilot={"decrease_min_interval_s": 3},
    )
    assert pilot_config(chosen, chosen.connector[0]).decrease_min_interval_s == 3.0
