"""`chargectl failsafe` says "safe" only for an output it confirmed."""

import asyncio
import subprocess
import sys
import textwrap

from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.server import EmulatorServer, free_port


def _config(tmp_path, port):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [state]
        dir = "{tmp_path}"
        [[connector]]
        id = 1
        driver = "sim"
        [[connector]]
        id = 2
        driver = "modbus"
        [connector.modbus]
        board = "evse_wb"
        host = "127.0.0.1"
        tcp_port = {port}
        timeout_s = 0.3
        """)
    )
    return cfg


def _failsafe(cfg):
    return subprocess.run(
        [sys.executable, "-m", "controller", "failsafe", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_board_is_not_called_safe(tmp_path):
    out = _failsafe(_config(tmp_path, free_port()))  # nothing listens there
    assert out.returncode == 1
    assert "connector 1 (sim): pilot +12 V, contactor open" in out.stdout
    assert "connector 2" not in out.stdout
    assert "connector 2 (modbus): NOT confirmed safe" in out.stderr
    assert "Traceback" not in out.stderr


def test_reachable_board_is_confirmed_paused(tmp_path):
    async def go():
        board = EvseWbEmulator(device_id=1, current_reg=1600)  # 16 A when the service died
        server = EmulatorServer([board])
        port = await server.start_tcp()
        try:
            out = await asyncio.to_thread(_failsafe, _config(tmp_path, port))
        finally:
            await server.stop()
        return out, board.current_reg

    out, current = asyncio.run(go())
    assert out.returncode == 0, out.stderr
    assert "connector 2 (modbus): pilot +12 V, contactor open" in out.stdout
    assert current == 0
