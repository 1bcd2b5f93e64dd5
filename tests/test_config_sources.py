"""One effective configuration: `run`, `status`, `check-config` and `failsafe` all read the
unit's environment file, and `check-config` says where each value came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from controller.config_sources import apply_env_file, read_env_file, value_sources

REPO = Path(__file__).resolve().parents[1]


def _env(env_file: Path | str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGECTL_")}
    return {**env, "CHARGECTL_ENV_FILE": str(env_file), **extra}


def _chargectl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_file_is_parsed_like_systemd_and_the_process_wins(tmp_path):
    f = tmp_path / "chargectl"
    f.write_text(
        "# overrides\nCHARGECTL_OCPP__URL=wss://csms.example/ocpp\n"
        "CHARGECTL_STATE__DIR='/srv/state'\nOTHER=1\n"
    )
    assert read_env_file(f) == {
        "CHARGECTL_OCPP__URL": "wss://csms.example/ocpp",
        "CHARGECTL_STATE__DIR": "/srv/state",
    }
    environ = {"CHARGECTL_ENV_FILE": str(f), "CHARGECTL_STATE__DIR": "/from/shell"}
    added = apply_env_file(environ)
    assert added == {"CHARGECTL_OCPP__URL": "wss://csms.example/ocpp"}
    assert environ["CHARGECTL_STATE__DIR"] == "/from/shell"
    assert read_env_file(tmp_path / "absent") == {}


def test_check_config_uses_the_env_file_and_names_each_source(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[ocpp]\nurl = "ws://file.example/ocpp"\n[state]\ndir = "/from/file"\n')
    env_file = tmp_path / "default"
    env_file.write_text(f"CHARGECTL_STATE__DIR={tmp_path}/from-env-file\n")
    out = _chargectl(
        "check-config",
        "--config",
        str(cfg),
        env=_env(env_file, CHARGECTL_OCPP__CHARGE_POINT_ID="SHELL"),
    )
    assert out.returncode == 0, out.stderr
    effective = json.loads(out.stdout)
    assert effective["state"]["dir"] == f"{tmp_path}/from-env-file"
    assert effective["ocpp"]["charge_point_id"] == "SHELL"
    lines = {line.split()[0]: line for line in out.stderr.splitlines()[1:]}
    assert f"env file {env_file}: CHARGECTL_STATE__DIR" in lines["state.dir"]
    assert "environment: CHARGECTL_OCPP__CHARGE_POINT_ID" in lines["ocpp.charge_point_id"]
    assert f"file {cfg}" in lines["ocpp.url"]
    assert lines["ocpp.vendor"].endswith("default")
    assert lines["connector[0].driver"].endswith("default")


def test_a_connector_list_from_the_environment_is_one_source():
    sources = value_sources(
        {"connector": [{"id": 1, "driver": "sim"}], "log_level": "info"},
        {"log_level": "info"},
        "c.toml",
        {"CHARGECTL_CONNECTOR": '[{"id": 1}]'},
        {},
        Path("/etc/default/chargectl"),
    )
    assert sources == {
        "connector[0].id": "environment: CHARGECTL_CONNECTOR",
        "connector[0].driver": "environment: CHARGECTL_CONNECTOR",
        "log_level": "file c.toml",
    }


def test_failsafe_sees_the_connectors_of_the_env_file(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[connector]]\nid = 1\ndriver = "sim"\n')
    env_file = tmp_path / "default"
    env_file.write_text(
        """CHARGECTL_CONNECTOR='[{"id": 1, "driver": "sim"}, {"id": 2, "driver": "sim"}]'\n"""
    )
    out = _chargectl("failsafe", "--config", str(cfg), env=_env(env_file))
    assert out.returncode == 0, out.stderr
    assert "connector 2 (sim): pilot +12 V, contactor open" in out.stdout


def test_status_finds_the_service_whose_state_dir_comes_from_the_env_file(tmp_path):
    cfg = tmp_path / "config.toml"
    file_dir = tmp_path / "from-file"
    env_dir = tmp_path / "from-env-file"
    cfg.write_text(
        f'[ocpp]\nurl = "ws://127.0.0.1:9/ocpp"\n[state]\ndir = "{file_dir}"\n'
        '[[connector]]\nid = 1\ndriver = "sim"\n'
    )
    env_file = tmp_path / "default"
    env_file.write_text(f"CHARGECTL_STATE__DIR={env_dir}\n")
    # systemd hands the service the file's variables in its environment.
    service = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", "--config", str(cfg)],
        env=_env(os.devnull, CHARGECTL_STATE__DIR=str(env_dir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (env_dir / "control.sock").exists():
            assert service.poll() is None and time.monotonic() < deadline, "service not up"
            time.sleep(0.1)
        out = _chargectl("status", "--json", "--config", str(cfg), env=_env(env_file))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["pid"] == service.pid
        # Without the file, the old behaviour: the file's dir, and a wrong "not running".
        wrong = _chargectl("status", "--config", str(cfg), env=_env(os.devnull))
        assert wrong.returncode == 3 and str(file_dir) in wrong.stderr
    finally:
        service.terminate()
        service.wait(timeout=30)


def test_the_unit_sets_no_chargectl_variable_behind_the_files_back():
    unit = (REPO / "systemd" / "chargectl.service").read_text()
    env_lines = [line for line in unit.splitlines() if line.startswith("Environment=")]
    assert env_lines and not any("CHARGECTL_" in line for line in env_lines)
    assert "EnvironmentFile=-/etc/default/chargectl" in unit


def test_status_state_dir_survives_a_file_it_cannot_fully_use(tmp_path, monkeypatch):
    from controller.status import status_state_dir

    monkeypatch.delenv("CHARGECTL_STATE__DIR", raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[state]\ndir = "{tmp_path}/s"\n[[connector]]\nid = 1\ndriver = "pwm"\n')
    assert status_state_dir(str(cfg)) == (tmp_path / "s", None)
    monkeypatch.setenv("CHARGECTL_STATE__DIR", str(tmp_path / "env"))
    assert status_state_dir(str(cfg)) == (tmp_path / "env", None)
    monkeypatch.delenv("CHARGECTL_STATE__DIR")
    state, note = status_state_dir(str(tmp_path / "absent.toml"))
    assert state == Path("/var/lib/chargectl") and note and "does not exist" in note
