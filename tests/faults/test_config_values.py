"""Non-finite numbers in the configuration are a configuration error, not a crash of `run`."""

import subprocess
import sys

import pytest

from controller.config import ConfigError, load_settings


@pytest.mark.parametrize(
    "toml",
    [
        "[simulator]\nev_sleep_after_pause_s = inf\n",
        "[simulator]\nev_sleep_after_pause_s = nan\n",
        "[pilot]\nmin_pause_s = inf\n",
        "[station]\nmax_current_a = inf\n",
        "[[connector]]\nid = 1\nmax_current_a = nan\n",
    ],
)
def test_non_finite_values_are_rejected(tmp_path, toml):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError, match="finite"):
        load_settings(cfg)


def test_check_config_and_run_reject_inf_with_exit_78(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[state]\ndir = "{tmp_path}"\n[simulator]\nev_sleep_after_pause_s = inf\n')
    for cmd in ("check-config", "run"):
        out = subprocess.run(
            [sys.executable, "-m", "controller", cmd, "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 78, (cmd, out.stderr)
        assert "simulator.ev_sleep_after_pause_s" in out.stderr
        assert "Traceback" not in out.stderr


def test_fallback_current_is_a_station_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[station]\nfallback_current_a = 10\n")
    assert load_settings(cfg).station.fallback_current_a == 10.0
    cfg.write_text("[station]\nfallback_current_a = -1\n")
    with pytest.raises(ConfigError, match=r"station\.fallback_current_a"):
        load_settings(cfg)
