import subprocess
import sys


def test_failsafe_reports_each_connector(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[state]\ndir = "{tmp_path}"\n[[connector]]\nid = 1\ndriver = "sim"\n'
        '[[connector]]\nid = 2\ndriver = "sim"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "controller", "failsafe", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "connector 1 (sim): pilot +12 V, contactor open" in out.stdout
    assert "connector 2 (sim)" in out.stdout


def test_failsafe_with_a_bad_config_exits_78(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[[connector]]\nid = 1\ndriver = 'nope'\n")
    out = subprocess.run(
        [sys.executable, "-m", "controller", "failsafe", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 78 and "driver" in out.stderr and "Traceback" not in out.stderr
