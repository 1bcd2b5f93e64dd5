"""Time stamps as OCPP writes them (ISO 8601, UTC, a `Z`), both ways, for both versions.

One place, so every message and every parsed expiry, retrieve or log window agrees on the
format and on what a stamp without a zone means (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str | None) -> datetime | None:
    """An aware datetime, or None for no text or one that is not ISO 8601."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
