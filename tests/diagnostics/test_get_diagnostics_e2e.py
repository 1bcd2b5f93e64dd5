"""GetDiagnostics end to end: the real `chargectl run` against the strict independent CSMS
(npm ocpp-rpc), uploading to a local HTTP server and a local FTP server (pyftpdlib)."""

import asyncio
import io
import os
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from transfer_servers import Received, ftp_server, http_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from strict_csms import StrictCsms

CP = "CP-DIAG-1"
PASSWORD = "diag-basic-pass-4711"
AUTH_KEY = "00112233445566778899aabbccddeeff"
EXPECTED = {
    "log.txt",
    "config.json",
    "status.json",
    "versions.json",
    "profiles.json",
    "queue.json",
    "ocpp-keys.json",
    "manifest.json",
}

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _members(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {Path(m.name).name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


def _statuses(csms, since):
    return [e["payload"]["status"] for e in csms.calls("DiagnosticsStatusNotification")[since:]]


def _no_secret_anywhere(files: dict[str, str]) -> None:
    for name, text in files.items():
        assert PASSWORD not in text, name
        assert AUTH_KEY not in text, name
        assert AUTH_KEY.upper() not in text, name


async def test_get_diagnostics_uploads_to_http_and_ftp_without_secrets(tmp_path):
    state = tmp_path / "state"
    config = tmp_path / "config.toml"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CHARGECTL_") and k != "INVOCATION_ID"
    }
    env["CHARGECTL_ENV_FILE"] = os.devnull
    ftp_root = tmp_path / "ftp"
    (ftp_root / "diag").mkdir(parents=True)
    received = Received()
    async with StrictCsms.start() as csms:
        await csms.set_password(PASSWORD)
        config.write_text(
            f'[ocpp]\nurl = "{csms.url}"\ncharge_point_id = "{CP}"\npassword = "{PASSWORD}"\n'
            f'[state]\ndir = "{state}"\n[[connector]]\nid = 1\ndriver = "sim"\n'
            "[web]\nenabled = false\n"
        )
        log = (tmp_path / "service.log").open("wb")
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "chargectl"), "run", "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await csms.wait_for_call("BootNotification", timeout=60)
            r = await csms.call(
                CP, "ChangeConfiguration", {"key": "AuthorizationKey", "value": AUTH_KEY}
            )
            assert r["status"] in ("Accepted", "RebootRequired")
            await asyncio.sleep(1.1)
            window_start = datetime.now(UTC)

            # HTTP: the window starts after the boot, so the boot's log lines are not in it.
            with http_server(received) as base:
                seen = len(csms.calls("DiagnosticsStatusNotification"))
                answer = await csms.call(
                    CP,
                    "GetDiagnostics",
                    {
                        "location": f"{base}/upload/",
                        "retries": 2,
                        "retryInterval": 1,
                        "startTime": _iso(window_start),
                        "stopTime": _iso(window_start + timedelta(hours=1)),
                    },
                )
                name = answer["fileName"]
                assert name.startswith(f"diagnostics-{CP}-") and name.endswith(".tar.gz")
                await csms.wait_for_call(
                    "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded", 60
                )
            assert _statuses(csms, seen) == ["Uploading", "Uploaded"]
            assert received.methods == ["PUT"]
            files = _members(received.files[name])
            assert set(files) == EXPECTED
            _no_secret_anywhere(files)
            assert "BootNotification accepted" not in files["log.txt"]
            assert "diagnostics status: Uploading" in files["log.txt"]
            assert '"password": "****"' in files["config.json"]
            assert f'"charge_point_id": "{CP}"' in files["config.json"]
            assert '"state": "booted"' in files["status.json"]
            assert '"connectors"' in files["status.json"]
            assert '"queued_messages"' in files["queue.json"]
            assert '"chargectl": ' in files["versions.json"]
            assert '"since": "' + window_start.isoformat()[:19] in files["manifest.json"]

            # FTP, no window: the whole log since the start, the boot included.
            with ftp_server(ftp_root) as base:
                seen = len(csms.calls("DiagnosticsStatusNotification"))
                answer = await csms.call(CP, "GetDiagnostics", {"location": f"{base}/diag/"})
                await csms.wait_for_call(
                    "DiagnosticsStatusNotification",
                    lambda p: p["status"] == "Uploaded",
                    60,
                    since=len(csms.events) - 1,
                )
            assert _statuses(csms, seen) == ["Uploading", "Uploaded"]
            files = _members((ftp_root / "diag" / answer["fileName"]).read_bytes())
            assert set(files) == EXPECTED
            _no_secret_anywhere(files)
            assert "BootNotification accepted" in files["log.txt"]

            # Nobody listening: the tries run out and the CSMS hears UploadFailed.
            seen = len(csms.calls("DiagnosticsStatusNotification"))
            answer = await csms.call(
                CP,
                "GetDiagnostics",
                {"location": "ftp://u:p@127.0.0.1:9/", "retries": 2, "retryInterval": 1},
            )
            assert "fileName" in answer
            await csms.wait_for_call(
                "DiagnosticsStatusNotification", lambda p: p["status"] == "UploadFailed", 60
            )
            assert _statuses(csms, seen) == ["Uploading", "UploadFailed"]
            assert list((state / "diagnostics").iterdir()) == []  # no tarball left behind

            # A location it cannot upload to: no file name, nothing reported.
            answer = await csms.call(CP, "GetDiagnostics", {"location": "sftp://host/dir/"})
            assert answer == {}
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(20)
            print((tmp_path / "service.log").read_text()[-4000:])
        assert csms.violations == []
