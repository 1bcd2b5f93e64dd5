"""One service per state directory: a second `chargectl run` exits at once and leaves the
first one's transaction, status socket and lock alone."""

import asyncio
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import Service, status_json, wait_status, write_config

from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port


@pytest.mark.slow
def test_second_instance_on_the_same_state_dir_exits_at_once(tmp_path):
    async def go():
        port = free_port()
        cfg = write_config(tmp_path, port)
        csms = DemoCsms()
        await csms.start(port=port)
        first = await Service(cfg).start()
        second = None
        try:
            await csms.wait_for(
                "StatusNotification", lambda r: r.payload["status"] == "Charging", 30
            )
            await wait_status(cfg, lambda d: d["pid"] == first.proc.pid)
            seen = len(csms.received)
            t0 = time.monotonic()
            second = await Service(cfg).start()
            code = await second.wait_exit(30)
            print(f"second instance exited after {time.monotonic() - t0:.2f} s")
            assert code == 73
            assert "in use by another chargectl" in second.log
            assert str(first.proc.pid) in second.log
            assert "Traceback" not in second.log
            await asyncio.sleep(2)  # anything the second one might have sent has arrived
            # The first one is untouched: still charging, still answering on its socket.
            assert first.proc.returncode is None
            doc = status_json(cfg)
            assert doc["pid"] == first.proc.pid
            assert doc["connectors"][0]["ocpp_status"] == "Charging"
            later = csms.received[seen:]
            assert not [r for r in later if r.action in ("StopTransaction", "BootNotification")]
            await first.kill9()
        finally:
            if second is not None:
                await second.stop()
            await first.stop()
            await csms.close()
        # Once the first is gone, even by kill -9, the directory is free again: the kernel
        # drops the lock with the process, so a stale lock file never keeps the service down.
        assert (tmp_path / "state" / "chargectl.lock").exists()
        third = await Service(cfg).start()
        try:
            await wait_status(cfg, lambda d: d["pid"] == third.proc.pid)
        finally:
            await third.stop()

    asyncio.run(asyncio.wait_for(go(), 120))
