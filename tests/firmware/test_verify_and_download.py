"""Verification of a release and the download half of an update, protocol-free, with real
HTTP and FTP servers on 127.0.0.1."""

import hashlib
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.firmware import transfer
from controller.firmware.install import Layout
from controller.firmware.model import FirmwareStatus, UpdateRequest
from controller.firmware.updater import FirmwareUpdater
from controller.firmware.verify import PackageKind, VerifyError, check_digest, verify_release

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diagnostics"))
from transfer_servers import Received, ftp_server, http_server


def _wheel(path: Path, name: str = "chargectl", version: str = "2.0.0") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("controller/__init__.py", f'__version__ = "{version}"\n')
        zf.writestr(
            f"chargectl-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
    return path


def test_a_wheel_of_chargectl_is_accepted(tmp_path):
    release = verify_release(_wheel(tmp_path / "chargectl-2.0.0-py3-none-any.whl"))
    assert (release.kind, release.version) == (PackageKind.WHEEL, "2.0.0")


@pytest.mark.parametrize(
    ("file_name", "meta_name", "meta_version", "reason"),
    [
        ("other-2.0.0-py3-none-any.whl", "chargectl", "2.0.0", "is not a chargectl wheel"),
        ("chargectl-2.0.0-py3-none-any.whl", "evil", "2.0.0", "not chargectl"),
        ("chargectl-2.0.0-py3-none-any.whl", "chargectl", "1.0.0", "readable chargectl wheel"),
        ("chargectl-2.0.0-cp311-cp311-linux_armv7l.whl", "chargectl", "2.0.0", "is not a"),
    ],
)
def test_anything_else_is_refused_with_the_reason(
    tmp_path, file_name, meta_name, meta_version, reason
):
    path = _wheel(tmp_path / file_name, meta_name, meta_version)
    with pytest.raises(VerifyError, match=reason):
        verify_release(path)


def test_a_truncated_wheel_is_refused(tmp_path):
    path = _wheel(tmp_path / "chargectl-2.0.0-py3-none-any.whl")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VerifyError, match="not a readable chargectl wheel"):
        verify_release(path)


def test_the_digest_in_the_location_must_match(tmp_path):
    path = _wheel(tmp_path / "chargectl-2.0.0-py3-none-any.whl")
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    url, digest = transfer.split_checksum(f"http://h/x.whl#sha256={good.upper()}")
    assert (url, digest) == ("http://h/x.whl", good)
    check_digest(path, digest)
    with pytest.raises(VerifyError, match="sha256 is"):
        check_digest(path, "0" * 64)


async def test_download_retries_until_the_server_answers(tmp_path):
    body = b"release bytes"
    received = Received(fail_first=2, serve={"chargectl-2.0.0-py3-none-any.whl": body})
    dest = tmp_path / "got.whl"
    with http_server(received) as base:
        url = f"{base}/chargectl-2.0.0-py3-none-any.whl"
        error = await transfer.with_retries(
            "download", lambda: transfer.download(url, dest), attempts=3, interval_s=0.05
        )
    assert error is None and dest.read_bytes() == body
    assert received.methods == ["GET", "GET", "GET"]


async def test_download_gives_up_after_the_attempts_and_leaves_no_part_file(tmp_path):
    received = Received(fail_first=5)
    dest = tmp_path / "got.whl"
    with http_server(received) as base:
        error = await transfer.with_retries(
            "download", lambda: transfer.download(f"{base}/x.whl", dest), 2, 0.05
        )
    assert error is not None and "503" in error
    assert received.methods == ["GET", "GET"]
    assert list(tmp_path.iterdir()) == []


def test_download_over_ftp(tmp_path):
    served = tmp_path / "srv"
    served.mkdir()
    (served / "chargectl-2.0.0-py3-none-any.whl").write_bytes(b"over ftp")
    with ftp_server(served) as base:
        transfer.download(f"{base}/chargectl-2.0.0-py3-none-any.whl", tmp_path / "got")
    assert (tmp_path / "got").read_bytes() == b"over ftp"


def test_unsupported_schemes_are_refused_before_any_connection(tmp_path):
    with pytest.raises(transfer.TransferError, match="unsupported scheme 'file'"):
        transfer.download("file:///etc/passwd", tmp_path / "x")


def _updater(tmp_path, reports, layout=None):
    async def restart() -> None:
        reports.append("restart")

    return FirmwareUpdater(
        tmp_path / "state",
        layout,
        tmp_path / "config.toml",
        report=reports.append,
        idle=lambda: True,
        restart=restart,
        now=lambda: datetime.now(UTC),
    )


async def _run(updater, location, attempts=2):
    req = UpdateRequest(location, datetime.now(UTC) - timedelta(seconds=1), attempts, 0.05)
    assert updater.accept(req)
    assert not updater.accept(req)  # one update at a time
    await updater.run()
    assert not updater.busy


async def test_an_unreachable_location_ends_in_download_failed(tmp_path):
    reports = []
    await _run(_updater(tmp_path, reports), "http://127.0.0.1:9/chargectl-2-py3-none-any.whl")
    assert reports == [FirmwareStatus.DOWNLOADING, FirmwareStatus.DOWNLOAD_FAILED]
    assert not (tmp_path / "state" / "firmware" / "job.json").exists()


async def test_a_wrong_digest_is_a_failed_download(tmp_path):
    name = "chargectl-2.0.0-py3-none-any.whl"
    body = _wheel(tmp_path / name).read_bytes()
    received = Received(serve={name: body})
    reports = []
    with http_server(received) as base:
        await _run(_updater(tmp_path, reports), f"{base}/{name}#sha256={'0' * 64}")
    assert reports == [FirmwareStatus.DOWNLOADING, FirmwareStatus.DOWNLOAD_FAILED]
    assert received.methods == ["GET", "GET"]


async def test_a_file_that_is_no_release_ends_in_installation_failed(tmp_path):
    received = Received(serve={"firmware.bin": b"\x7fELF..."})
    reports = []
    layout = Layout(tmp_path / "venv", tmp_path / "venvs", Path(sys.prefix))
    with http_server(received) as base:
        await _run(_updater(tmp_path, reports, layout), f"{base}/firmware.bin")
    assert reports == [
        FirmwareStatus.DOWNLOADING,
        FirmwareStatus.DOWNLOADED,
        FirmwareStatus.INSTALLING,
        FirmwareStatus.INSTALLATION_FAILED,
    ]
    assert not (tmp_path / "state" / "firmware" / "downloads" / "firmware.bin").exists()


async def test_without_the_versioned_layout_an_update_fails_cleanly(tmp_path):
    name = "chargectl-2.0.0-py3-none-any.whl"
    received = Received(serve={name: _wheel(tmp_path / name).read_bytes()})
    reports = []
    with http_server(received) as base:
        await _run(_updater(tmp_path, reports, None), f"{base}/{name}")
    assert reports[-1] is FirmwareStatus.INSTALLATION_FAILED
    assert "restart" not in reports


def _sdist(path: Path, version: str, meta_version: str) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        data = f"Metadata-Version: 2.1\nName: chargectl\nVersion: {meta_version}\n".encode()
        info = tarfile.TarInfo(f"chargectl-{version}/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_of_chargectl_is_accepted_and_checked_the_same_way(tmp_path):
    release = verify_release(_sdist(tmp_path / "chargectl-2.1.0.tar.gz", "2.1.0", "2.1.0"))
    assert (release.kind, release.version) == (PackageKind.SDIST, "2.1.0")
    with pytest.raises(VerifyError, match=r"not 2\.2\.0"):
        verify_release(_sdist(tmp_path / "chargectl-2.2.0.tar.gz", "2.2.0", "2.1.0"))
    (tmp_path / "chargectl-2.3.0.tar.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(VerifyError, match="not a readable chargectl sdist"):
        verify_release(tmp_path / "chargectl-2.3.0.tar.gz")
