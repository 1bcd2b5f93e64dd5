"""Logging for journald: one record is one journal entry, with its syslog priority.

Under systemd stderr is the journal (`JOURNAL_STREAM` says so). Each line gets the priority as a
`<N>` prefix, which journald strips and stores (`SyslogLevelPrefix=yes`), so
`journalctl -u chargectl -p warning` works. journald splits its stream at newlines, so a
traceback would become twenty entries at the default priority and hide among the info lines:
newlines inside a record are written as a literal `\\n` instead (`journalctl -o cat | sed
's/\\\\n/\\n/g'` restores them). Outside systemd the lines carry a timestamp and stay multi-line
for a person at a terminal. This is the stdlib: the native journal protocol (systemd-python)
would need libsystemd headers on the Pi for no gain a one-line escape does not give.

The `ocpp` library logs every request it cannot route (an action we do not implement, a payload
that fails its schema) at ERROR with a chained traceback. Those are ordinary CSMS traffic
answered with a CALLERROR, not our failures; `OcppLibraryFilter` turns them into one warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from types import TracebackType

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}

# The messages the `ocpp` library logs with a traceback when it answers a CALL with a CALLERROR.
_LIBRARY_CALL_ERROR = "Error while handling request '%s'"
_LIBRARY_UNPARSABLE = "Unable to parse message: '%s', it doesn't seem to be valid OCPP: %s"


def on_journal() -> bool:
    """True when stderr is the journal: systemd sets JOURNAL_STREAM to its device and inode.

    Compared with stderr itself, as systemd.exec(5) advises, so a child process that inherited
    the variable but writes to a terminal or a pipe keeps readable multi-line output.
    """
    dev, _, ino = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(sys.stderr.fileno())
        return (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (ValueError, OSError, AttributeError):
        return False


class JournalFormatter(logging.Formatter):
    """`<priority>logger: message`, with any newline (tracebacks included) escaped."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return f"<{prio}>{record.name}: {text.replace(chr(10), chr(92) + 'n')}"


class OcppLibraryFilter(logging.Filter):
    """Rewrites the `ocpp` library's CALLERROR tracebacks into one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or record.msg not in (_LIBRARY_CALL_ERROR, _LIBRARY_UNPARSABLE):
            return True
        from ocpp.exceptions import NotImplementedError as OcppNotImplemented
        from ocpp.exceptions import NotSupportedError, OCPPError

        if not isinstance(exc, OCPPError):
            return True  # a bug in one of our handlers: keep the traceback
        action = _action_of(record)
        code = getattr(exc, "code", type(exc).__name__)
        if isinstance(exc, OcppNotImplemented | NotSupportedError):
            text = f"CSMS request {action} is not supported: answered {code}"
        else:
            detail = getattr(exc, "description", "") or str(exc)
            text = f"CSMS request {action} answered {code}: {detail}"
        record.msg = text
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        return True


def _action_of(record: logging.LogRecord) -> str:
    args = record.args if isinstance(record.args, tuple) else ()
    msg = args[0] if args else None
    action = getattr(msg, "action", None)
    if isinstance(action, str):
        return action
    return "(unparsable frame)"


def install_ocpp_filter() -> None:
    """Idempotent; the OCPP service calls it so the rewrite holds however logging is set up."""
    lib = logging.getLogger("ocpp")
    if not any(isinstance(f, OcppLibraryFilter) for f in lib.filters):
        lib.addFilter(OcppLibraryFilter())


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """The ERROR and worse records logged anywhere while the block runs. Drivers report an
    output they could not make safe that way rather than by raising, and must not be trusted
    as safe after one."""
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector.records
    finally:
        root.removeHandler(collector)


def report_error(text: str) -> None:
    """A message for the person who started us, before logging is set up (a bad configuration):
    on the journal one entry at error priority, so `journalctl -p err` shows all of it."""
    if on_journal():
        print(JournalFormatter("%(message)s").format(_record(text)), file=sys.stderr)
    else:
        print(text, file=sys.stderr)


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("chargectl", logging.ERROR, __file__, 0, text, None, None)


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """An internal error's traceback as one critical journal entry, not a column of info lines."""
    logging.getLogger("chargectl").critical("unhandled error", exc_info=(exc_type, exc, tb))


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if on_journal():
        handler.setFormatter(JournalFormatter("%(message)s"))
        sys.excepthook = _log_uncaught
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The protocol libraries are chatty at INFO; their traffic is ours to log.
    for name in ("ocpp", "websockets", "pymodbus"):
        logging.getLogger(name).setLevel(logging.WARNING)
    install_ocpp_filter()
