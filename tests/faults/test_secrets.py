"""Secrets never reach logs or output: a schema-invalid AuthorizationKey, a misspelt password
key, a password in the CSMS URL."""

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import make_settings

from controller.app import Charger
from controller.config import ConfigError, load_settings

SECRET = "s3cr3tPa55"


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "controller", *args], capture_output=True, text=True, timeout=60
    )


def test_misspelt_password_key_is_not_echoed(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[ocpp]\npasword = "{SECRET}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "ocpp.pasword" in str(err.value) and "unknown key" in str(err.value)
    assert SECRET not in str(err.value)
    out = _cli("check-config", "--config", str(cfg))
    assert out.returncode == 78 and SECRET not in out.stderr + out.stdout


def test_url_password_is_masked_by_check_config_and_status(tmp_path):
    url = f"ws://cp01:{SECRET}@127.0.0.1:9/ocpp"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[ocpp]\nurl = "{url}"\n[state]\ndir = "{tmp_path}"\n')
    out = _cli("check-config", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout
    assert json.loads(out.stdout)["ocpp"]["url"] == "ws://****@127.0.0.1:9/ocpp"

    async def status_doc():
        charger = Charger(make_settings(url, tmp_path))
        try:
            return charger.status_document()
        finally:
            charger.ocpp.db.close()
            charger.profiles.close()

    doc = asyncio.run(status_doc())
    assert SECRET not in json.dumps(doc)
    assert doc["csms"]["url"].startswith("ws://****@127.0.0.1:9/ocpp")


def test_an_invalid_url_with_a_password_is_masked_in_the_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[ocpp]\nurl = "http://cp01:{SECRET}@example.org/ocpp"\n')
    out = _cli("check-config", "--config", str(cfg))
    assert out.returncode == 78 and "ocpp.url" in out.stderr
    assert SECRET not in out.stderr


@pytest.mark.slow
def test_schema_invalid_authorization_key_is_not_logged(tmp_path):
    """The `ocpp` library logs a failed CALL whole, with its traceback, at ERROR."""
    key = "ab" * 260  # 520 hex characters: longer than the 500 the schema allows

    async def go():
        answered = asyncio.get_running_loop().create_future()

        async def csms(ws):
            async for raw in ws:
                msg = json.loads(raw)
                if msg[0] == 2 and msg[2] == "BootNotification":
                    await ws.send(
                        json.dumps(
                            [
                                3,
                                msg[1],
                                {
                                    "status": "Accepted",
                                    "currentTime": "2024-01-01T00:00:00Z",
                                    "interval": 300,
                                },
                            ]
                        )
                    )
                    await ws.send(
                        json.dumps(
                            [
                                2,
                                "cc1",
                                "ChangeConfiguration",
                                {"key": "AuthorizationKey", "value": key},
                            ]
                        )
                    )
                elif msg[0] == 2:
                    await ws.send(json.dumps([3, msg[1], {}]))
                elif msg[1] == "cc1" and not answered.done():
                    answered.set_result(msg)

        server = await websockets.serve(csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"])
        port = server.sockets[0].getsockname()[1]
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            textwrap.dedent(f"""
            log_level = "debug"
            [ocpp]
            url = "ws://127.0.0.1:{port}/ocpp"
            password = "{SECRET}"
            [state]
            dir = "{tmp_path / "state"}"
            """)
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "controller",
            "run",
            "--config",
            str(cfg),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            reply = await asyncio.wait_for(answered, 30)
            await asyncio.sleep(0.5)
        finally:
            proc.terminate()
            out, err = await proc.communicate()
            server.close()
            await server.wait_closed()
        return reply, (out + err).decode()

    reply, log = asyncio.run(asyncio.wait_for(go(), 60))
    assert reply[0] == 4  # a CALLERROR: the key was refused
    assert "ChangeConfiguration" in log  # the failure is still logged...
    assert key not in log and key[:40] not in log  # ...without the key
    assert SECRET not in log
