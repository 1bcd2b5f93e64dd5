"""`chargectl run`: validate the configuration first, then start the service.

The configuration is read before anything else is imported, so a mistake in it always gives the
same clear message and exit status 78, whatever state the rest of the installation is in.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3

from controller.config import EX_CONFIG, ConfigError, load_settings
from controller.logs import report_error, setup_logging
from controller.redact import install_secret_filter

log = logging.getLogger("chargectl")

EX_IOERR = 74  # sysexits.h: an input/output error (state directory)
EX_CANTCREAT = 73  # sysexits.h: cannot create; here: the state directory is held by another


def run_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        report_error(str(exc))
        return EX_CONFIG
    setup_logging(settings.log_level)
    install_secret_filter(settings)
    os.environ["CHARGECTL_CONFIG"] = str(args.config)  # the live file, for a firmware self-check

    import importlib

    from controller.state_lock import StateDirBusy
    from hw.errors import HardwareError

    serve = importlib.import_module("controller.app").serve

    try:
        status = int(asyncio.run(serve(settings)))
        log.info("stopped (exit status %d)", status)
        return status
    except StateDirBusy as exc:
        log.error("%s", exc)
        return EX_CANTCREAT
    except (sqlite3.Error, OSError) as err:
        if isinstance(err, HardwareError):
            log.error("hardware: %s", err)
            return 1
        log.error(
            "state directory %s: %s; the outputs are safe. Fix: free space on that disk, or "
            "make the directory writable for the service user (StateDirectory= in the unit)",
            settings.state.dir,
            err,
        )
        return EX_IOERR
    except HardwareError as err:
        log.error("hardware: %s", err)
        return 1
    except ExceptionGroup as group:
        hw_errors, rest = group.split(HardwareError)
        for hw_err in hw_errors.exceptions if hw_errors else ():
            log.error("hardware: %s", hw_err)
        if rest is not None:
            state_errors, others = rest.split((sqlite3.Error, OSError))
            for st_err in state_errors.exceptions if state_errors else ():
                log.error(
                    "state directory %s: %s; the outputs are safe", settings.state.dir, st_err
                )
            if others is not None:
                raise others from None
            return EX_IOERR
        return 1
