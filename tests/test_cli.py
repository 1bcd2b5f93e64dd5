import subprocess
import sys

from controller.cli import _COMMANDS, build_parser


def test_every_command_has_a_parser():
    parser = build_parser()
    for name in _COMMANDS:
        needs = {"replay": ["x.json"], "tag": ["1C78F2BF"]}  # the required positional argument
        args = parser.parse_args([name, *needs.get(name, [])])
        assert args.command == name


def test_version_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "controller", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("chargectl ")
