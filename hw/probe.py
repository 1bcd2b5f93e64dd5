"""What `chargectl check-hw` reports for one probed device, with the fix for a failure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProbeResult:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    @classmethod
    def failed(cls, name: str, error: BaseException) -> ProbeResult:
        """Our driver errors carry the fix after '; ': show it on its own line."""
        text = str(error) or type(error).__name__
        detail, _, fix = text.partition("; ")
        return cls(name, False, detail, fix or None)
