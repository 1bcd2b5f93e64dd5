import subprocess
import sys
from pathlib import Path

import pytest

from controller.config import EX_CONFIG, ConfigError, load_settings

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_the_example_config_is_valid():
    s = load_settings(REPO / "systemd" / "config.example.toml")
    assert s.connector[0].driver == "sim"
    assert s.simulator.ev_sleep_after_pause_s == 0


def test_documented_keys(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            """
[ocpp]
url = "ws://127.0.0.1:9000/ocpp/"
charge_point_id = "CP001"
password = "s3cret"
[state]
dir = "/tmp/x"
[[connector]]
id = 1
driver = "sim"
max_current_a = 16
[simulator]
plugged_in = false
ev_max_current_a = 11
ev_response_s = 0.5
ev_sleep_after_pause_s = 120
""",
        )
    )
    assert s.ocpp.url == "ws://127.0.0.1:9000/ocpp"
    assert s.ocpp.password is not None and s.ocpp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.connector[0].max_current_a == 16
    assert (s.simulator.plugged_in, s.simulator.ev_sleep_after_pause_s) == (False, 120)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            '[[connector]]\nid = 1\ndriver = "pwm"\n',
            ["connector[0].driver = 'pwm'", "'sim'", "'modbus'"],
        ),
        (
            "[[connector]]\nid = 1\nmax_current_a = 100\n",
            ["connector[0].max_current_a = 100", "80"],
        ),
        ('[ocpp]\nurl = "http://x"\n', ["ocpp.url = 'http://x'", "ws://"]),
        ("[ocpp]\nurll = 1\n", ["ocpp.urll", "unknown key"]),
        ("[[connector]]\nid = 1\n[[connector]]\nid = 3\n", ["connector ids must be 1..2"]),
        ('[[connector]]\nid = 1\ndriver = "modbus"\n', ["[connector.modbus]"]),
        ("[ocpp\n", ["not valid TOML"]),
    ],
)
def test_errors_name_the_key_the_value_and_what_is_allowed(tmp_path, text, expect):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    for part in expect:
        assert part in str(err.value)


def test_password_is_never_echoed_in_errors(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "[ocpp]\npassword = 5\n"))
    assert "5" not in str(err.value).split("password", 1)[1].split(":", 1)[0]


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARGECTL_OCPP__CHARGE_POINT_ID", "FROM-ENV")
    monkeypatch.setenv("CHARGECTL_SIMULATOR__EV_MAX_CURRENT_A", "10")
    s = load_settings(write(tmp_path, '[ocpp]\ncharge_point_id = "FILE"\n'))
    assert s.ocpp.charge_point_id == "FROM-ENV"
    assert s.simulator.ev_max_current_a == 10


def test_run_exits_78_without_a_traceback(tmp_path):
    p = write(tmp_path, '[[connector]]\nid = 1\ndriver = "nope"\n')
    out = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--config", str(p)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == EX_CONFIG
    assert "connector[0].driver = 'nope'" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_file_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.toml")
