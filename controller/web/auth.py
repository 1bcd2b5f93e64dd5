"""One local admin behind a password: login, session cookie, CSRF and a login rate limit.

The charger sits on a home or factory LAN without TLS, so the cookie cannot be `Secure`;
`SameSite=Strict`, an `Origin` check and a per-session token on every POST keep another page
in the same browser from pressing our buttons. Sessions live in memory: a restart logs out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass

COOKIE = "chargectl_session"
SESSION_IDLE_S = 8 * 3600.0
LOGIN_ATTEMPTS_PER_MINUTE = 5


@dataclass
class Session:
    csrf: str
    last_used_mono: float


def _hash(password: str, salt: bytes) -> bytes:
    # PBKDF2, not scrypt: scrypt's 16 MB working set would be a third of the service's memory.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)


class Auth:
    """Pure bookkeeping: the caller passes the monotonic time in."""

    def __init__(self, password: str | None) -> None:
        self._salt = secrets.token_bytes(16)
        # Kept only as a hash, so a memory dump of a long-running service shows no password.
        self._hash = None if password is None else _hash(password, self._salt)
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        return self._hash is not None

    def throttled(self, client: str, now_mono: float) -> bool:
        recent = self._failures.get(client)
        if recent is None:
            return False
        while recent and now_mono - recent[0] > 60.0:
            recent.popleft()
        return len(recent) >= LOGIN_ATTEMPTS_PER_MINUTE

    def password_ok(self, password: str) -> bool:
        """The slow part (key stretching), safe to run in a worker thread: it changes nothing."""
        return self._hash is not None and hmac.compare_digest(
            _hash(password, self._salt), self._hash
        )

    def login(self, client: str, password_ok: bool, now_mono: float) -> str | None:
        """A new session id, or None for a wrong password (counted against the client)."""
        if self._hash is None:
            return None
        if not password_ok:
            if len(self._failures) > 1000:  # many addresses: forget the oldest minute's
                self._failures = {
                    k: v for k, v in self._failures.items() if v and now_mono - v[-1] <= 60.0
                }
            self._failures.setdefault(client, deque()).append(now_mono)
            return None
        self._failures.pop(client, None)
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = Session(secrets.token_urlsafe(32), now_mono)
        self._expire(now_mono)
        return sid

    def logout(self, sid: str | None) -> None:
        if sid is not None:
            self._sessions.pop(sid, None)

    def session(self, sid: str | None, now_mono: float) -> Session | None:
        if sid is None:
            return None
        s = self._sessions.get(sid)
        if s is None or now_mono - s.last_used_mono > SESSION_IDLE_S:
            self._sessions.pop(sid, None)
            return None
        s.last_used_mono = now_mono
        return s

    def _expire(self, now_mono: float) -> None:
        for sid in [
            k for k, s in self._sessions.items() if now_mono - s.last_used_mono > SESSION_IDLE_S
        ]:
            del self._sessions[sid]


def same_origin(origin: str | None, referer: str | None, host: str | None) -> bool:
    """True if the request comes from a page we served (Origin, else Referer, names our host)."""
    if host is None:
        return False
    own = f"http://{host}"
    if origin is not None:
        return origin == own
    if referer is not None:
        return referer == own or referer.startswith(own + "/")
    return False
