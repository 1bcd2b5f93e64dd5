"""The words of a firmware update, shared by the updater and the protocol adapters."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class FirmwareStatus(enum.StrEnum):
    """The states a CSMS is told about, named as OCPP 1.6 names them."""

    DOWNLOADING = "Downloading"
    DOWNLOADED = "Downloaded"
    DOWNLOAD_FAILED = "DownloadFailed"
    INSTALLING = "Installing"
    INSTALLED = "Installed"
    INSTALLATION_FAILED = "InstallationFailed"


# When the CSMS leaves them out: a few tries a minute apart ride over a short network hiccup
# without keeping a failed update around for long.
DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    location: str
    retrieve_at: datetime
    attempts: int = DEFAULT_ATTEMPTS
    retry_interval_s: float = DEFAULT_RETRY_INTERVAL_S

    @classmethod
    def of(
        cls,
        location: str,
        retrieve_at: datetime,
        retries: int | None,
        retry_interval_s: float | None,
    ) -> UpdateRequest:
        """OCPP's `retries` is "how many times to try": at least one try, whatever was sent."""
        return cls(
            location,
            retrieve_at,
            DEFAULT_ATTEMPTS if retries is None else max(1, retries),
            DEFAULT_RETRY_INTERVAL_S if retry_interval_s is None else max(0.0, retry_interval_s),
        )
