"""GetLog (N01) and UpdateFirmware (L01) in 2.0.1 against the strict ocpp-rpc CSMS, on the
machinery 1.6 uses: a log upload to a local HTTP server with LogStatusNotification carrying
the requestId, and a firmware download that fails with FirmwareStatusNotification saying so."""

import asyncio
import contextlib
import io
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from strict_csms import StrictCsms
from test_strict_v201 import V201, _settings

from controller.app import Charger

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diagnostics"))
from transfer_servers import Received, http_server

CP = "CS-STRICT-201"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _story(tmp_path):
    received = Received()
    async with StrictCsms.start(V201) as csms:
        charger = Charger(_settings(csms.url, tmp_path))
        charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
        run = asyncio.create_task(charger.run())
        out = {}
        try:
            await csms.wait_for_call("StatusNotification", timeout=30)
            with http_server(received) as base:
                r = await csms.call(
                    CP,
                    "GetLog",
                    {
                        "logType": "DiagnosticsLog",
                        "requestId": 41,
                        "log": {"remoteLocation": f"{base}/upload/"},
                    },
                )
                assert r["status"] == "Accepted"
                out["filename"] = r["filename"]
                await csms.wait_for_call(
                    "LogStatusNotification", lambda p: p["status"] == "Uploaded", 60
                )
            r = await csms.call(
                CP,
                "GetLog",
                {"logType": "SecurityLog", "requestId": 42, "log": {"remoteLocation": base}},
            )
            assert r["status"] == "Rejected"
            r = await csms.call(
                CP,
                "UpdateFirmware",
                {
                    "requestId": 7,
                    "retries": 1,
                    "firmware": {
                        "location": "http://127.0.0.1:9/chargectl-9.9.9-py3-none-any.whl",
                        "retrieveDateTime": "2020-01-01T00:00:00Z",
                    },
                },
            )
            out["update_status"] = r["status"]
            await csms.wait_for_call(
                "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed", 60
            )
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)
        return csms, received, out


@pytest.mark.slow
def test_get_log_and_a_failed_firmware_download_in_201(tmp_path):
    csms, received, out = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert csms.violations == [], csms.violations
    logs = [c["payload"] for c in csms.calls("LogStatusNotification")]
    assert logs == [
        {"status": "Uploading", "requestId": 41},
        {"status": "Uploaded", "requestId": 41},
    ]
    with tarfile.open(fileobj=io.BytesIO(received.files[out["filename"]])) as tar:
        files = {
            m.name.rsplit("/", 1)[-1]: tar.extractfile(m).read().decode()
            for m in tar.getmembers()
            if m.isfile()
        }
    assert {"log.txt", "config.json", "ocpp-keys.json"} <= set(files)
    assert "TxUpdatedInterval" in files["ocpp-keys.json"]  # the device model, listed
    assert out["update_status"] == "Accepted"
    firmware = [c["payload"] for c in csms.calls("FirmwareStatusNotification")]
    assert [f["status"] for f in firmware] == ["Downloading", "DownloadFailed"]
    assert all(f["requestId"] == 7 for f in firmware)
