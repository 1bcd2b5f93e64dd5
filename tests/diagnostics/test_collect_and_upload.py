"""The diagnostics tarball's parts and the upload, protocol-free."""

import io
import json
import logging
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from transfer_servers import Received, http_server

from controller.diagnostics.collect import DiagnosticsStatus, Sources, build_tarball, scrub
from controller.diagnostics.logbuffer import RecentLog
from controller.diagnostics.uploader import DiagnosticsRequest, DiagnosticsUploader
from controller.firmware import transfer

SECRET = "hunter2-but-longer"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _sources(recent=None):
    return Sources(
        charge_point_id="CP/1 x",
        config=lambda: {"ocpp": {"password": "****", "url": "ws://h"}},
        status=lambda: {"profiles": [{"id": 7}], "note": f"leaked {SECRET}"},
        queue=lambda: {"queued_messages": 2},
        secrets=lambda: [SECRET, ""],
        recent_log=recent,
    )


def _read(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {Path(m.name).name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


def test_under_systemd_the_journal_window_is_asked_of_journalctl(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    args_file = tmp_path / "args"
    journalctl = bin_dir / "journalctl"
    journalctl.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {args_file}\n'
        f'echo "2026-03-01T12:00:05+00:00 chargectl[1]: password was {SECRET}"\n'
    )
    journalctl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("INVOCATION_ID", "0123")
    path = build_tarball(_sources(), tmp_path / "out", T0, T0, T0 + timedelta(hours=2))
    assert path.name == "diagnostics-CP_1_x-20260301T120000Z.tar.gz"
    files = _read(path)
    assert "journal.txt" in files and "log.txt" not in files
    assert "password was ****" in files["journal.txt"]
    assert all(SECRET not in text for text in files.values())
    args = args_file.read_text().splitlines()
    assert args[:2] == ["-u", "chargectl"]
    assert args[args.index("--since") + 1] == "2026-03-01 12:00:00 UTC"
    assert args[args.index("--until") + 1] == "2026-03-01 14:00:00 UTC"
    manifest = json.loads(files["manifest.json"])
    assert manifest["log_source"] == "journalctl -u chargectl"
    assert json.loads(files["profiles.json"]) == [{"id": 7}]


def test_without_a_journal_the_services_own_log_window_is_packed(tmp_path, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    recent = RecentLog(capacity=10)
    logger = logging.getLogger("diag-test")
    logger.addHandler(recent)
    try:
        logger.warning("before the window")
        start = datetime.now(UTC)
        logger.warning("inside the window, key %s", SECRET)
    finally:
        logger.removeHandler(recent)
    files = _read(build_tarball(_sources(recent), tmp_path, start, start, None))
    assert "before the window" not in files["log.txt"]
    assert "inside the window, key ****" in files["log.txt"]


def test_scrub_masks_longer_secrets_first():
    assert scrub("abc abcdef", ["abc", "abcdef"]) == "**** ****"


async def test_a_server_that_refuses_put_gets_a_multipart_post(tmp_path):
    received = Received(refuse_put=True)
    reports = []
    uploader = DiagnosticsUploader(_sources(), tmp_path / "work", reports.append)
    with http_server(received) as base:
        req = DiagnosticsRequest.of(f"{base}/in", None, None, 1, 0, T0)
        assert await uploader.run(req)
    assert received.methods == ["PUT", "POST"]
    assert reports == [DiagnosticsStatus.UPLOADING, DiagnosticsStatus.UPLOADED]
    data = received.files[uploader.file_name(req)]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert len(tar.getmembers()) == 7


async def test_upload_retries_then_succeeds(tmp_path):
    received = Received(fail_first=1)
    reports = []
    uploader = DiagnosticsUploader(_sources(), tmp_path / "work", reports.append)
    with http_server(received) as base:
        assert await uploader.run(DiagnosticsRequest.of(f"{base}/", None, None, 3, 0.05, T0))
    assert received.methods == ["PUT", "PUT"]
    assert reports[-1] is DiagnosticsStatus.UPLOADED
    assert list((tmp_path / "work").iterdir()) == []


def test_ftp_passwords_never_reach_the_log():
    shown = transfer.shown_url("ftp://user:pa55word@host:2121/dir/")
    assert shown == "ftp://user:****@host:2121/dir/"
