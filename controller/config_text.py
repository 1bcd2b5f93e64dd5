"""What a person reads about a configuration: each error with the key that caused it, and
secrets never echoed (a misspelt `pasword` is still a password).

Kept apart from the model so the rules for showing values live in one place: `check-config`,
the service's start-up error and the dashboard's configuration view all go through them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from controller.plain_data import DataError, dotted, value_at


def describe_errors(errors: list[DataError], data: Any, source: str) -> str:
    """Every mistake on a line of its own: the key, the value given (secrets masked) and what
    is allowed; `data` is what was read, to show the values."""
    lines = [f"{source}: invalid configuration"]
    for err in errors:
        key = dotted(err.key) or "(top level)"
        msg = err.message
        if err.unknown_key:
            msg = "unknown key (misspelt? see systemd/config.example.toml for every key)"
        found, value = value_at(data, err.key)
        shown = "" if not found or isinstance(value, dict | list) else f" = {value!r}"
        if err.unknown_key or _looks_secret(key):
            # An unknown key may be a misspelt secret (`pasword`): never echo its value.
            shown = " = ****" if shown else ""
        elif isinstance(value, str) and "://" in value:
            shown = f" = {mask_url(value)!r}"
        lines.append(f"  {key}{shown}: {msg}")
    return "\n".join(lines)


_SECRET_WORDS = ("pass", "pwd", "secret", "token", "authorization")


def _looks_secret(key: str) -> bool:
    last = key.rsplit(".", 1)[-1].lower()
    return any(word in last for word in _SECRET_WORDS)


def mask_url(url: str) -> str:
    """The URL with any `user:password@` replaced by `****@`, for logs and output."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"****@{host}"))
