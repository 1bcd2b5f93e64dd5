"""Moving files to and from the operator's servers: http, https and ftp, with retries.

Blocking on purpose (urllib and ftplib): callers run these in a worker thread, so a slow
server never stalls the control loop.
"""

from __future__ import annotations

import asyncio
import ftplib
import logging
import os
import shutil
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_S = 60.0
DOWNLOAD_SCHEMES = ("http", "https", "ftp")
UPLOAD_SCHEMES = ("http", "https", "ftp", "ftps")


class TransferError(Exception):
    """A transfer failed; the text says why, for the log."""


def split_checksum(location: str) -> tuple[str, str | None]:
    """`URL#sha256=HEX` (pip's convention) names the expected digest; the URL goes without it."""
    url, _, fragment = location.partition("#")
    if fragment.startswith("sha256="):
        digest = fragment.removeprefix("sha256=").strip().lower()
        return url, digest
    return location, None


def download(url: str, dest: Path) -> None:
    """Fetch `url` into `dest` (written beside it first, renamed when complete)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in DOWNLOAD_SCHEMES:
        raise TransferError(f"unsupported scheme {scheme!r} (use http, https or ftp)")
    part = dest.with_name(dest.name + ".part")
    try:
        with (
            urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp,
            part.open("wb") as out,
        ):
            shutil.copyfileobj(resp, out, 1 << 16)
        os.replace(part, dest)
    except (OSError, urllib.error.URLError, ftplib.Error, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise TransferError(f"download of {shown_url(url)} failed: {exc}") from None


def upload(directory_url: str, source: Path) -> str:
    """Put `source` into the directory `directory_url`; return where it went."""
    parts = urllib.parse.urlsplit(directory_url)
    scheme = parts.scheme.lower()
    if scheme not in UPLOAD_SCHEMES:
        raise TransferError(f"unsupported scheme {scheme!r} (use http, https, ftp or ftps)")
    try:
        if scheme.startswith("ftp"):
            _ftp_upload(parts, source)
        else:
            _http_upload(directory_url, source)
    except (OSError, urllib.error.URLError, ftplib.Error, ValueError, EOFError) as exc:
        raise TransferError(f"upload to {shown_url(directory_url)} failed: {exc}") from None
    return _join(directory_url, source.name)


def _join(directory_url: str, name: str) -> str:
    base = directory_url if directory_url.endswith("/") else directory_url + "/"
    return base + urllib.parse.quote(name)


def _http_upload(directory_url: str, source: Path) -> None:
    """HTTP PUT of the file; a server that refuses PUT (405, 501) gets a multipart POST."""
    target = _join(directory_url, source.name)
    data = source.read_bytes()
    put = urllib.request.Request(
        target, data=data, method="PUT", headers={"Content-Type": "application/gzip"}
    )
    try:
        with urllib.request.urlopen(put, timeout=TIMEOUT_S):
            return
    except urllib.error.HTTPError as exc:
        if exc.code not in (405, 501):
            raise
    boundary = "chargectl-diagnostics-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{source.name}"\r\nContent-Type: application/gzip\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    post = urllib.request.Request(
        directory_url,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(post, timeout=TIMEOUT_S):
        return


def _ftp_upload(parts: urllib.parse.SplitResult, source: Path) -> None:
    ftp: ftplib.FTP
    if parts.scheme.lower() == "ftps":
        ftp = ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=TIMEOUT_S)
    else:
        ftp = ftplib.FTP(timeout=TIMEOUT_S)
    with ftp:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(
            urllib.parse.unquote(parts.username or "anonymous"),
            urllib.parse.unquote(parts.password or ""),
        )
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        directory = urllib.parse.unquote(parts.path)
        if directory.strip("/"):
            ftp.cwd(directory)
        with source.open("rb") as fh:
            ftp.storbinary(f"STOR {source.name}", fh)


def shown_url(url: str) -> str:
    """The URL for a log line: never the password of `ftp://user:password@host/`."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:****@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


async def with_retries(
    what: str,
    attempt: Callable[[], None],
    attempts: int,
    interval_s: float,
) -> str | None:
    """Run `attempt` in a thread up to `attempts` times; None on success, else the last error."""
    error: str | None = None
    for n in range(1, max(1, attempts) + 1):
        try:
            await asyncio.to_thread(attempt)
            return None
        except TransferError as exc:
            error = str(exc)
            log.warning("%s, try %d of %d: %s", what, n, attempts, error)
        if n < attempts:
            await asyncio.sleep(interval_s)
    return error
