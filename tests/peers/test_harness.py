"""The strict peer really is strict: a raw websocket client breaks the schema on purpose."""

import asyncio
import json

import pytest
import websockets
from strict_csms import StrictCsms

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _probe():
    async with StrictCsms.start() as csms:
        async with websockets.connect(
            csms.url + "/RAW1", subprotocols=[websockets.Subprotocol("ocpp1.6")]
        ) as ws:
            await ws.send(json.dumps([2, "1", "BootNotification", {"chargePointVendor": "x"}]))
            missing = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(
                json.dumps(
                    [
                        2,
                        "2",
                        "StatusNotification",
                        {
                            "connectorId": 1,
                            "errorCode": "NoError",
                            "status": "Available",
                            "timestamp": "2024-05-01T10:00:00",
                        },
                    ]
                )
            )
            zoneless = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(
                json.dumps(
                    [
                        2,
                        "3",
                        "BootNotification",
                        {"chargePointVendor": "x", "chargePointModel": "y"},
                    ]
                )
            )
            ok = json.loads(await asyncio.wait_for(ws.recv(), 10))
            # A CSMS-initiated call answered with a status outside the schema.
            task = asyncio.create_task(csms.call("RAW1", "ClearCache", {}))
            req = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps([3, req[1], {"status": "Maybe"}]))
            with pytest.raises(Exception):
                await task
        return missing, zoneless, ok, csms.violations


def test_the_peer_refuses_what_the_schema_forbids():
    missing, zoneless, ok, violations = asyncio.run(_probe())
    assert missing[0] == 4  # CALLERROR for the missing chargePointModel
    assert zoneless[0] == 4  # CALLERROR for a timestamp without a zone
    assert ok[0] == 3 and ok[2]["status"] == "Accepted"
    assert len(violations) == 3
