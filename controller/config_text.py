"""What a person reads about a configuration: each error with the key that caused it, and
secrets never echoed (a misspelt `pasword` is still a password).

Kept apart from the model so the rules for showing values live in one place: `check-config`,
the service's start-up error and the dashboard's configuration view all go through them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_errors(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        key = _format_loc(tuple(err["loc"])) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt? see systemd/config.example.toml for every key)"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) or value is None else f" = {value!r}"
        if err["type"] == "extra_forbidden" or _looks_secret(key):
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
