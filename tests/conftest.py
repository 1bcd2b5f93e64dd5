"""Shared test options: `--hil` opts into the suite that needs a real Raspberry Pi (the rig tests
then run on the real rig instead of its circuit twin); `--report FILE` writes the rig tests'
measured timings as JSON (docs/hil.md, "Results")."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hil", action="store_true", default=False, help="run hardware-in-the-loop tests"
    )
    parser.addoption(
        "--report",
        default=None,
        metavar="FILE",
        help="write the timings the EV-emulator rig tests measured to FILE (JSON)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--hil"):
        return
    skip = pytest.mark.skip(reason="needs a real Raspberry Pi: run with --hil")
    for item in items:
        if "hil" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every run says why tests were skipped (socat or npm missing, no Pi), grouped by reason,
    so a green summary cannot hide a part of the suite that never ran."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    terminalreporter.section("skipped tests, by reason", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{count:4d} skipped: {reason}")
