"""One GetDiagnostics: pack, upload with retries, report, clean up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from controller.diagnostics.collect import DiagnosticsStatus, Sources, build_tarball, file_name
from controller.firmware import transfer

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_INTERVAL_S = 30.0


@dataclass(frozen=True, slots=True)
class DiagnosticsRequest:
    location: str
    since: datetime | None
    until: datetime | None
    attempts: int
    retry_interval_s: float
    created: datetime

    @classmethod
    def of(
        cls,
        location: str,
        since: datetime | None,
        until: datetime | None,
        retries: int | None,
        retry_interval_s: float | None,
        now: datetime,
    ) -> DiagnosticsRequest:
        return cls(
            location,
            since,
            until,
            DEFAULT_ATTEMPTS if retries is None else max(1, retries),
            DEFAULT_RETRY_INTERVAL_S if retry_interval_s is None else max(0.0, retry_interval_s),
            now,
        )


class DiagnosticsUploader:
    def __init__(
        self, sources: Sources, work_dir: Path, report: Callable[[DiagnosticsStatus], None]
    ) -> None:
        self._sources = sources
        self._work_dir = work_dir
        self._report = report

    def file_name(self, req: DiagnosticsRequest) -> str:
        return file_name(self._sources.charge_point_id, req.created)

    async def run(self, req: DiagnosticsRequest) -> bool:
        """True when the file reached the server; the CSMS hears Uploading, then the outcome."""
        self._report(DiagnosticsStatus.UPLOADING)
        path: Path | None = None
        try:
            path = build_tarball(self._sources, self._work_dir, req.created, req.since, req.until)
            log.info("diagnostics %s: %d bytes", path.name, path.stat().st_size)
            done = path

            def put() -> None:
                transfer.upload(req.location, done)

            error = await transfer.with_retries(
                "diagnostics upload", put, req.attempts, req.retry_interval_s
            )
        except (OSError, ValueError) as exc:
            error = f"could not pack the diagnostics: {exc}"
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        if error is not None:
            log.error("diagnostics not uploaded: %s", error)
            self._report(DiagnosticsStatus.UPLOAD_FAILED)
            return False
        log.info("diagnostics uploaded to %s", transfer.shown_url(req.location))
        self._report(DiagnosticsStatus.UPLOADED)
        return True
