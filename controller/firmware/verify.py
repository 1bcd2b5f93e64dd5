"""Is this file a release of chargectl, intact, and the one the operator meant?

Checked before anything is installed: the digest when the location names one, the file name,
that the archive reads to the end, and that the metadata inside names chargectl and the same
version as the file name. A signature is not checked: the digest in the location is the
operator's way of pinning exactly one build (docs/ocpp.md).
"""

from __future__ import annotations

import email.parser
import enum
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROJECT = "chargectl"
# PEP 427 / PEP 625 file names of our own project (normalised name "chargectl").
_WHEEL = re.compile(r"^chargectl-(?P<version>[^-]+)(-\d[^-]*)?-py3-none-any\.whl$")
_SDIST = re.compile(r"^chargectl-(?P<version>[^-]+)\.tar\.gz$")
_SAFE_VERSION = re.compile(r"^[0-9A-Za-z.+!_]+$")


class PackageKind(enum.StrEnum):
    WHEEL = "wheel"
    SDIST = "sdist"


class VerifyError(Exception):
    """Why the file is not installable; meant for the log."""


@dataclass(frozen=True, slots=True)
class Release:
    path: Path
    kind: PackageKind
    version: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def check_digest(path: Path, expected_sha256: str | None) -> None:
    if expected_sha256 is None:
        return
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise VerifyError(f"sha256 is {actual}, the location names {expected_sha256}")


def verify_release(path: Path) -> Release:
    """Raise VerifyError unless `path` is a complete wheel or sdist of chargectl."""
    name = path.name
    if m := _WHEEL.match(name):
        kind, version = PackageKind.WHEEL, m["version"]
        metadata = _wheel_metadata(path, version)
    elif m := _SDIST.match(name):
        kind, version = PackageKind.SDIST, m["version"]
        metadata = _sdist_metadata(path, version)
    else:
        raise VerifyError(
            f"{name!r} is not a chargectl wheel (chargectl-VERSION-py3-none-any.whl) "
            "or sdist (chargectl-VERSION.tar.gz)"
        )
    if not _SAFE_VERSION.match(version):
        raise VerifyError(f"unusual version {version!r} in the file name")
    fields = email.parser.HeaderParser().parsestr(metadata)
    if (fields.get("Name") or "").lower().replace("_", "-") != PROJECT:
        raise VerifyError(f"the metadata names {fields.get('Name')!r}, not {PROJECT}")
    if fields.get("Version") != version:
        raise VerifyError(f"the metadata says version {fields.get('Version')!r}, not {version}")
    return Release(path, kind, version)


def _wheel_metadata(path: Path, version: str) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            broken = zf.testzip()  # reads every member: a truncated download fails here
            if broken is not None:
                raise VerifyError(f"{broken} is damaged in the wheel")
            return zf.read(f"{PROJECT}-{version}.dist-info/METADATA").decode()
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError) as exc:
        raise VerifyError(f"not a readable chargectl wheel: {exc}") from None


def _sdist_metadata(path: Path, version: str) -> str:
    import tarfile  # only for an update: its import costs 0.4 MB of a Pi's memory

    try:
        with tarfile.open(path, "r:gz") as tf:
            members = tf.getmembers()  # reads to the end
            wanted = f"{PROJECT}-{version}/PKG-INFO"
            if not any(m.name == wanted for m in members):
                raise VerifyError(f"the sdist has no {wanted}")
            fh = tf.extractfile(wanted)
            if fh is None:
                raise VerifyError(f"{wanted} is not a file")
            return fh.read().decode()
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise VerifyError(f"not a readable chargectl sdist: {exc}") from None
