"""A charger with the simulator, in process, against a CSMS on 127.0.0.1."""

import asyncio
import contextlib
from dataclasses import replace

from controller import config
from controller.app import Charger
from controller.demo.csms import DemoCsms

CP = "CP-T1"


def make_settings(url, tmp_path, **ocpp):
    return config.make_settings(
        ocpp={"url": url, "charge_point_id": CP, **ocpp},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.3},
        pilot={"min_pause_s": 5},
    )


@contextlib.asynccontextmanager
async def running(settings, max_backoff_s=2.0):
    charger = Charger(settings)
    charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=max_backoff_s)
    task = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        charger.stop()
        try:
            await asyncio.wait_for(task, 20)
        except TimeoutError:
            task.cancel()


@contextlib.asynccontextmanager
async def csms_server(port=0):
    csms = DemoCsms()
    await csms.start(port=port)
    try:
        yield csms
    finally:
        await csms.close()
