"""Shared test options: `--hil` opts into the suite that needs a real Raspberry Pi."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hil", action="store_true", default=False, help="run hardware-in-the-loop tests"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--hil"):
        return
    skip = pytest.mark.skip(reason="needs a real Raspberry Pi: run with --hil")
    for item in items:
        if "hil" in item.keywords:
            item.add_marker(skip)
