"""`chargectl check-config`: the effective configuration, secrets masked, and where each value
came from (file, environment or default)."""

from __future__ import annotations

import argparse
import json
import sys

from controller.config import EX_CONFIG, ConfigError, load_settings, masked_dump


def check_config_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    print(json.dumps(masked_dump(settings), indent=2))
    from controller.config_sources import report_sources

    print(report_sources(masked_dump(settings), args.config), file=sys.stderr)
    return 0
