"""Secrets never reach the log: a filter on every handler masks them in each record.

Some log lines are written by libraries we do not control: the `ocpp` library logs a whole
CALL (AuthorizationKey and its value included) with its traceback when the CALL fails schema
validation. Masking where the text is finally written catches those too, whoever wrote them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from controller.config import Settings

MASK = "****"

_URL_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"]+@")
# Values of a configuration key in a CALL, as the library prints it (repr or JSON).
_KEY_VALUE = re.compile(r"""(['"]value['"]\s*:\s*)(['"])(?:\\.|(?!\2).)*\2""")
_SECRET_KEYS = ("authorizationkey",)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with known secrets, URL passwords and secret configuration values masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(rf"\g<1>{MASK}@", text)
    if any(k in text.lower() for k in _SECRET_KEYS):
        text = _KEY_VALUE.sub(rf"\g<1>\g<2>{MASK}\g<2>", text)
    return text


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if record.exc_info or record.exc_text:
            detail = record.exc_text or logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
            if redact(detail, self.secrets) != detail or _mentions_secret_key(message):
                # A traceback may quote the secret anywhere (a validator's message): drop it.
                record.exc_info = None
                record.exc_text = None
                clean += " (details withheld: they contain a secret)"
        if clean != message:
            record.msg = clean
            record.args = ()
        return True


def _mentions_secret_key(text: str) -> bool:
    return any(k in text.lower() for k in _SECRET_KEYS)


def install_secret_filter(settings: Settings) -> None:
    """Mask secrets on every handler of the root logger (call after logging is set up)."""
    secrets = []
    if settings.ocpp.password is not None:
        secrets.append(settings.ocpp.password.get_secret_value())
    flt = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
