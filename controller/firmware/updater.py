"""One firmware update from request to restart, and what an accepted boot settles.

Protocol-free: the adapter passes in how to report a status, whether a transaction runs, how to
restart and what time it is. The update is persisted (bootstate.Job) before the first status
is reported, so a restart in the middle resumes it instead of leaving the CSMS waiting.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from controller.firmware import bootstate, transfer
from controller.firmware.install import InstallError, Layout, install_release, prune
from controller.firmware.model import FirmwareStatus, UpdateRequest
from controller.firmware.verify import VerifyError, check_digest, verify_release

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0


class FirmwareUpdater:
    def __init__(
        self,
        state_dir: Path,
        layout: Layout | None,
        config_path: Path | None,
        report: Callable[[FirmwareStatus], None],
        idle: Callable[[], bool],
        restart: Callable[[], Awaitable[None]],
        now: Callable[[], datetime],
    ) -> None:
        self._state_dir = state_dir
        self._layout = layout
        self._config_path = config_path
        self._report = report
        self._idle = idle
        self._restart = restart
        self._now = now
        self.busy = False

    def accept(self, req: UpdateRequest) -> bool:
        """Persist the request; False when an update is already under way (it goes on)."""
        if self.busy or bootstate.switch_pending(self._state_dir) is not None:
            log.warning("UpdateFirmware ignored: an update is already under way")
            return False
        bootstate.save_job(self._state_dir, bootstate.Job.of(req))
        self.busy = True
        return True

    def on_boot_accepted(self) -> bool:
        """Report how the last switch ended; True when a persisted update should resume."""
        if self._layout is not None:
            settled = bootstate.settle_boot(self._state_dir, self._layout.running.name)
            if settled is not None:
                if settled.status is FirmwareStatus.INSTALLED:
                    log.info(
                        "%s booted: replacing %s was a success", settled.target, settled.previous
                    )
                    prune(self._layout, keep={self._layout.venvs / settled.previous})
                else:
                    log.error(
                        "%s did not boot; %s is running again", settled.target, settled.previous
                    )
                bootstate.drop_job(self._state_dir)
                self._report(settled.status)
                return False
        job = bootstate.load_job(self._state_dir)
        if job is None or self.busy:
            return False
        self.busy = True
        return True

    async def run(self) -> None:
        """Carry out the persisted update; every way out reports a final status."""
        try:
            job = bootstate.load_job(self._state_dir)
            if job is None:
                return
            if job.phase == "staged" and bootstate.switch_pending(self._state_dir):
                await self._restart_when_idle()
                return
            await self._update(job.request())
        finally:
            self.busy = False

    async def _update(self, req: UpdateRequest) -> None:
        delay_s = (req.retrieve_at - self._now()).total_seconds()
        if delay_s > 0:
            log.info("firmware download at %s, in %.0f s", req.retrieve_at.isoformat(), delay_s)
            await asyncio.sleep(delay_s)
        url, digest = transfer.split_checksum(req.location)
        name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
        if name in ("", ".", ".."):
            name = "release"  # verification then says it is no release of chargectl
        downloads = bootstate.firmware_dir(self._state_dir) / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        dest = downloads / name
        self._report(FirmwareStatus.DOWNLOADING)

        def fetch() -> None:
            transfer.download(url, dest)
            try:
                check_digest(dest, digest)
            except VerifyError as exc:
                dest.unlink(missing_ok=True)
                raise transfer.TransferError(str(exc)) from None

        error = await transfer.with_retries(
            "firmware download", fetch, req.attempts, req.retry_interval_s
        )
        if error is not None:
            log.error("firmware update failed: %s", error)
            self._finish(FirmwareStatus.DOWNLOAD_FAILED)
            return
        self._report(FirmwareStatus.DOWNLOADED)
        self._report(FirmwareStatus.INSTALLING)
        try:
            target = await asyncio.to_thread(self._install, dest)
        except (VerifyError, InstallError, OSError) as exc:
            log.error("firmware update failed: %s", exc)
            self._finish(FirmwareStatus.INSTALLATION_FAILED)
            return
        finally:
            dest.unlink(missing_ok=True)
        bootstate.request_switch(self._state_dir, target.name)
        job = bootstate.load_job(self._state_dir)
        if job is not None:
            bootstate.save_job(
                self._state_dir,
                bootstate.Job(
                    job.location, job.retrieve_at, job.attempts, job.retry_interval_s, "staged"
                ),
            )
        log.info("%s installed and checked; switching at the next start", target.name)
        await self._restart_when_idle()

    def _install(self, package: Path) -> Path:
        release = verify_release(package)
        log.info("verified %s (%s %s)", package.name, release.kind, release.version)
        if self._layout is None:
            raise InstallError(
                "this chargectl does not run from /opt/chargectl/venvs (install it with "
                "systemd/install.sh to enable firmware updates)"
            )
        if self._config_path is None:
            raise InstallError("the live configuration file is not known: no self-check possible")
        return install_release(release, self._layout, self._config_path)

    def _finish(self, status: FirmwareStatus) -> None:
        bootstate.drop_job(self._state_dir)
        self._report(status)

    async def _restart_when_idle(self) -> None:
        """A restart ends transactions: wait until none runs, then restart into the release."""
        waited = False
        while not self._idle():
            if not waited:
                log.info("the new release starts once no transaction runs")
                waited = True
            await asyncio.sleep(IDLE_POLL_S)
        log.warning("restarting into the new release")
        await self._restart()
