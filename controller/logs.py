"""Logging for journald: one line per record on stderr, the syslog priority as a `<N>` prefix.

With `SyslogLevelPrefix=yes` journald strips the prefix and stores the level, so
`journalctl -u chargectl -p warning` works. Outside systemd the lines carry a timestamp instead.
"""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        return f"<{prio}>{record.name}: {super().format(record)}"


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"):
        handler.setFormatter(_JournalFormatter("%(message)s"))
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
