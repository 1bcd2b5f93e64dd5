"""`chargectl status` works for a member of group evse without sudo, and only needs the socket.

The service runs as its own uid with the unit's UMask=0027; the person asking is another uid
whose only tie to the service is the supplementary group.
"""

from __future__ import annotations

import os
import stat
import subprocess
import textwrap

from service_users import (
    SERVICE_GID,
    SERVICE_UID,
    as_member,
    as_outsider,
    needs_root,
    scratch_dir,
    start_service,
    state_dir,
    stop_service,
)

from controller.status import SOCKET_NAME

pytestmark = needs_root


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGECTL_")}
    return {**env, "CHARGECTL_ENV_FILE": os.devnull, "HOME": "/", **extra}


def _config(parent, state) -> str:
    cfg = parent / "config.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [ocpp]
        url = "ws://127.0.0.1:9/ocpp"
        [state]
        dir = "{state}"
        [[connector]]
        id = 1
        driver = "sim"
        """)
    )
    return str(cfg)


def _status(cfg: str, who, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*who(), "status", "--config", cfg],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_group_member_reads_status_and_outsider_gets_the_right_advice():
    with scratch_dir() as d:
        state = state_dir(d)
        cfg = _config(d, state)
        os.chown(cfg, 0, SERVICE_GID)
        os.chmod(cfg, 0o640)
        proc = start_service(
            ["run", "--config", cfg],
            _env(),
            state / SOCKET_NAME,
        )
        try:
            mode = stat.S_IMODE(os.stat(state / SOCKET_NAME).st_mode)
            assert mode == 0o660, oct(mode)
            member = _status(cfg, as_member)
            assert member.returncode == 0, member.stderr
            assert "connector 1:" in member.stdout and "driver sim" in member.stdout

            # The configuration is unreadable to an outsider: status still finds the socket
            # through the environment, and the advice is about group evse, not the service user.
            outsider = _status(cfg, as_outsider, CHARGECTL_STATE__DIR=str(state))
            assert outsider.returncode == 4
            assert "add yourself to group evse" in outsider.stderr
            assert "Traceback" not in outsider.stderr
        finally:
            stop_service(proc)


def test_status_needs_only_the_socket_not_a_readable_config():
    with scratch_dir() as d:
        state = state_dir(d)
        cfg = _config(d, state)
        os.chown(cfg, SERVICE_UID, SERVICE_GID)
        os.chmod(cfg, 0o600)  # the service user only: a group member cannot read it
        proc = start_service(
            ["run", "--config", cfg],
            _env(),
            state / SOCKET_NAME,
        )
        try:
            out = _status(cfg, as_member, CHARGECTL_STATE__DIR=str(state))
            assert out.returncode == 0, out.stderr
            assert "connector 1:" in out.stdout
        finally:
            stop_service(proc)


def test_not_running_says_where_it_looked_and_why():
    with scratch_dir() as d:
        cfg = d / "config.toml"
        cfg.write_text('[state]\ndir = "/nonexistent/state"\n')
        os.chmod(cfg, 0o600)
        out = _status(str(cfg), as_member)
        assert out.returncode == 3
        assert "not running" in out.stderr
        assert "/var/lib/chargectl/control.sock" in out.stderr
        assert "permission denied" in out.stderr
        assert "Traceback" not in out.stderr
