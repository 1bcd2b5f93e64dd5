"""Once started, the service moves its start-up objects out of the garbage collector's reach,
so a full collection no longer walks every module, schema and setting (a pause of the event
loop that runs the pilot)."""

import asyncio
import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import make_settings, running

import controller.app as app
from controller.demo.csms import DemoCsms


def test_start_up_objects_are_frozen_once_started(tmp_path, monkeypatch):
    monkeypatch.setattr(app, "FREEZE_AFTER_S", 0.2)
    app._freeze_startup_objects.cache_clear()  # an earlier test in this process may have run it
    gc.unfreeze()

    async def go():
        csms = DemoCsms()
        url = await csms.start()
        try:
            before = gc.get_freeze_count()
            async with running(make_settings(url, tmp_path)) as charger:
                await csms.wait_for("BootNotification", timeout_s=30)
                async with asyncio.timeout(10):
                    while gc.get_freeze_count() == 0:
                        await asyncio.sleep(0.05)
                return before, gc.get_freeze_count(), charger.loop.healthy()
        finally:
            await csms.close()

    before, frozen, healthy = asyncio.run(go())
    assert before == 0
    assert frozen > 10_000  # modules, classes and schemas: tens of thousands of objects
    assert healthy
