"""`chargectl run`: validate the configuration first, then start the service.

The configuration is read before anything else is imported, so a mistake in it always gives the
same clear message and exit status 78, whatever state the rest of the installation is in.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from controller.config import EX_CONFIG, ConfigError, load_settings
from controller.logs import setup_logging

log = logging.getLogger("chargectl")


def run_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    setup_logging(settings.log_level)

    import importlib

    from hw.errors import HardwareError

    serve = importlib.import_module("controller.app").serve

    try:
        return int(asyncio.run(serve(settings)))
    except HardwareError as err:
        log.error("hardware: %s", err)
        return 1
    except ExceptionGroup as group:
        hw_errors, rest = group.split(HardwareError)
        for sub in hw_errors.exceptions if hw_errors else ():
            log.error("hardware: %s", sub)
        if rest is not None:
            raise rest from None
        return 1
