"""Shared test options and checks: every OCPP message the charger sends in a test is checked
against the JSON schemas of its OCPP version, 1.6 or 2.0.1 (the service itself skips that
check at run time: it costs more CPU than the rest of sending). `--hil` opts into the suite
that needs a real Raspberry Pi (the rig tests then run on the real rig instead of its circuit
twin); `--report FILE` writes the rig tests' measured timings as JSON (docs/hil.md,
"Results")."""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from typing import Any

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


def outgoing_problems(raw: str, version: str = "1.6") -> list[str]:
    """What the OCPP schema says is wrong with a CALL we send ([] for other frames)."""
    from ocpp.messages import MessageType, get_validator

    frame: Any = json.loads(raw, parse_float=decimal.Decimal)
    if not isinstance(frame, list) or len(frame) != 4 or frame[0] != 2:
        return []
    action, payload = frame[2], frame[3]
    try:
        validator = get_validator(MessageType.Call, action, version, parse_float=decimal.Decimal)
    except OSError:
        return [f"{action}: no OCPP {version} schema for this action"]
    return [
        f"{action} at {'/'.join(map(str, e.absolute_path)) or 'payload'}: {e.message}"
        for e in validator.iter_errors(payload)
    ]


@pytest.fixture(autouse=True)
def outgoing_ocpp_checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails the test if the charger sent a CALL its schema forbids. A test that sends an
    invalid one on purpose takes this fixture and empties the list once it has looked."""
    from controller.ocpp.session import Session
    from controller.ocpp201.session import Session201

    problems: list[str] = []
    real_send = Session._send
    real_send_201 = Session201._send

    async def checked_send(self: Session, message: str) -> None:
        problems.extend(outgoing_problems(message))
        await real_send(self, message)

    async def checked_send_201(self: Session201, message: str) -> None:
        problems.extend(outgoing_problems(message, "2.0.1"))
        await real_send_201(self, message)

    monkeypatch.setattr(Session, "_send", checked_send)
    monkeypatch.setattr(Session201, "_send", checked_send_201)
    yield problems
    if problems:
        pytest.fail("the charger sent invalid OCPP: " + "; ".join(problems[:5]))
