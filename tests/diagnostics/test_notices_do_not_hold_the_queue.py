"""A CSMS that answers the status notices with a CALLERROR (the demo CSMS implements neither)
must not hold the persistent queue: each notice gets one attempt, like a security event."""

import asyncio

from ocpp.v16 import call
from transfer_servers import Received, http_server

from controller.app import Charger
from controller.config import make_settings
from controller.demo.csms import DemoCsms

CP = "CP-NOTICE"


async def test_a_refused_diagnostics_notice_is_dropped_after_one_attempt(tmp_path):
    csms = DemoCsms()
    url = await csms.start()
    charger = Charger(
        make_settings(
            ocpp={"url": url, "charge_point_id": CP},
            state={"dir": tmp_path / "state"},
            connector=[{"id": 1, "driver": "sim"}],
            web={"enabled": False},
        )
    )
    run = asyncio.create_task(charger.run())
    received = Received()
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        with http_server(received) as base:
            answer = await csms.call(CP, call.GetDiagnostics(location=f"{base}/"))
            async with asyncio.timeout(30):
                while answer.file_name not in received.files:
                    await asyncio.sleep(0.05)
        # Uploading and Uploaded were refused (NotImplemented): the queue is empty at once,
        # not after TransactionMessageAttempts tries spaced by the retry interval.
        async with asyncio.timeout(5):
            while charger.ocpp.db.pending():
                await asyncio.sleep(0.05)
    finally:
        charger.stop()
        await asyncio.wait_for(run, 20)
        await csms.close()
