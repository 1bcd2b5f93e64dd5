"""[web]: on by default on loopback; beyond loopback only with a password."""

import subprocess
import sys

import pytest

from controller.config import ConfigError, load_settings


def _cfg(tmp_path, web):
    p = tmp_path / "c.toml"
    p.write_text(f'[state]\ndir = "{tmp_path}"\n[web]\n{web}\n')
    return p


def test_default_is_loopback_port_8080(tmp_path):
    s = load_settings(_cfg(tmp_path, ""))
    assert s.web.enabled and s.web.listen == "127.0.0.1:8080" and s.web.password is None


def test_lan_without_password_is_refused_with_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(_cfg(tmp_path, 'listen = "0.0.0.0:8080"'))
    assert "set [web] password" in str(err.value)
    assert "Traceback" not in str(err.value)
    out = subprocess.run(
        [sys.executable, "-m", "controller", "check-config", "--config", str(tmp_path / "c.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 78
    assert "web" in out.stderr and "password" in out.stderr and "Traceback" not in out.stderr


def test_lan_with_password_is_accepted_and_the_password_is_masked(tmp_path):
    p = _cfg(tmp_path, 'listen = "0.0.0.0:8080"\npassword = "garage-door-42"')
    assert load_settings(p).web.listen == "0.0.0.0:8080"
    out = subprocess.run(
        [sys.executable, "-m", "controller", "check-config", "--config", str(p)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "garage-door-42" not in out.stdout


@pytest.mark.parametrize(
    "web",
    ['listen = "8080"', 'listen = "127.0.0.1:http"', 'password = "short"', "port = 80"],
)
def test_bad_web_values_name_the_key(tmp_path, web):
    with pytest.raises(ConfigError) as err:
        load_settings(_cfg(tmp_path, web))
    assert "web." in str(err.value)


def test_environment_can_turn_the_dashboard_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARGECTL_WEB__ENABLED", "false")
    assert load_settings(_cfg(tmp_path, "")).web.enabled is False
