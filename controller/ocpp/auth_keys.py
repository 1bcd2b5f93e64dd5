"""Configuration keys of local authorization, the local list and reservations (OCPP 1.6 §9.1-9.3),
with MaxEnergyOnInvalidId, what a session may still draw after its idTag was refused.

A table of its own that `config_keys.definitions` merges: each row is (name, default, readonly,
check).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.auth.model import LOCAL_LIST_MAX, SEND_LIST_MAX


def _bool(v: str) -> bool:
    return v.lower() in ("true", "false")


def _wh_or_empty(v: str) -> bool:
    """Empty (not configured) or whole Wh in ASCII digits."""
    return v == "" or (v.isascii() and v.isdigit() and len(v) <= 10)


AUTH_KEYS: tuple[tuple[str, str, bool, Callable[[str], bool] | None], ...] = (
    ("AuthorizationCacheEnabled", "true", False, _bool),
    ("LocalAuthListEnabled", "true", False, _bool),
    ("LocalAuthListMaxLength", str(LOCAL_LIST_MAX), True, None),
    ("MaxEnergyOnInvalidId", "", False, _wh_or_empty),
    ("SendLocalListMaxLength", str(SEND_LIST_MAX), True, None),
    ("ReserveConnectorZeroSupported", "true", True, None),
)
