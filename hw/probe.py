"""What `chargectl check-hw` reports for each configured device.

Every driver module exposes an `async def probe(...) -> list[ProbeResult]`, so the command can
print one table for mixed hardware and give the installer a concrete fix for each failure instead
of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One check of one device: `fix` says what to do when `ok` is false."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
