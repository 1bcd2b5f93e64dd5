"""The `chargectl` command line: one place that maps sub-commands to their modules.

Each sub-command's module is imported only when it runs, so `chargectl failsafe` works even
when an optional dependency of another command is broken.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

DEFAULT_CONFIG = "/etc/chargectl/config.toml"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe

# sub-command -> (module, function); the function takes the arguments, returns the exit status
_COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("controller.run", "run_command"),
    "demo": ("controller.demo", "demo_command"),
    "replay": ("controller.replay", "replay_command"),
    "status": ("controller.status", "status_command"),
    "check-hw": ("controller.check_hw", "check_hw_command"),
    "check-config": ("controller.config_check", "check_config_command"),
    "failsafe": ("controller.failsafe", "failsafe_command"),
    "selftest": ("controller.selftest", "selftest_command"),
    "tag": ("controller.tag_command", "tag_command"),
}


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default=os.environ.get("CHARGECTL_CONFIG", DEFAULT_CONFIG),
        metavar="FILE",
        help=f"configuration file (default: $CHARGECTL_CONFIG or {DEFAULT_CONFIG})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chargectl",
        description="OCPP 1.6J charge point controller for a Raspberry Pi.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the charge point service")
    _config_arg(p)

    p = sub.add_parser("demo", help="play the pause/resume story with a simulated car and CSMS")
    p.add_argument("--csms", metavar="URL", help="attach to this external CSMS instead")
    p.add_argument("--plot", metavar="FILE.png", help="draw limit and current over time")
    p.add_argument("--charge-point-id", default="DEMO01", help="identity towards the CSMS")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--house", action="store_true", help="the main-fuse guard in a simulated house instead"
    )
    p.add_argument(
        "--ocpp", choices=("1.6", "2.0.1"), default="1.6", help="the protocol of the story"
    )

    p = sub.add_parser("replay", help="what would this charger do with these OCPP messages?")
    p.add_argument("scenario", metavar="SCENARIO.json")
    p.add_argument("--table", action="store_true", help="print a human-readable timeline")

    p = sub.add_parser("status", help="show the running service's connectors and profiles")
    _config_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("check-hw", help="probe the configured hardware and say how to fix it")
    _config_arg(p)

    p = sub.add_parser(
        "check-config", help="validate the configuration and print it, secrets masked"
    )
    _config_arg(p)

    p = sub.add_parser("failsafe", help="put every configured output in the safe state")
    _config_arg(p)

    p = sub.add_parser("selftest", help="end-of-line test of a finished charger (docs/hil.md)")
    _config_arg(p)
    from controller.selftest import add_arguments

    add_arguments(p)

    p = sub.add_parser("tag", help="present an RFID card to the running service")
    _config_arg(p)
    p.add_argument("id_tag", metavar="UID", help="the card's idTag, e.g. 1C78F2BF")
    p.add_argument("--connector", type=int, metavar="N", help="default: the station's reader")
    return parser


def _version() -> str:
    from controller import __version__

    return f"chargectl {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "config"):
        # Every command sees the service's environment file too (see config_sources).
        from controller.config_sources import apply_env_file

        apply_env_file()
    module_name, func_name = _COMMANDS[args.command]
    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    try:
        status = func(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `chargectl replay ... | head`: the reader has all it wanted. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again, and end like any
        # Unix tool whose output pipe closed.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
