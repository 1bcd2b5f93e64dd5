"""The 2.0.1 adapter borrows only protocol-free parts of the 1.6 adapter, by name, and the 1.6
adapter and the station model know nothing of it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each borrowed module gives: no 1.6 message, enum or session crosses over.
BORROWED = {
    "controller.ocpp.auth_db": {"AuthDb"},
    "controller.ocpp.core": {"AsyncioTimers", "LinkState", "Timers"},
    "controller.ocpp.frames": {"FrameKind", "call_error", "screen"},
    "controller.ocpp.meter_loop": {"next_wake_s"},
    "controller.ocpp.outbox": {"OcppDb", "_register_statement"},
    "controller.ocpp.ports": {"Connection"},
    "controller.ocpp.queue_layout": {
        "StoredTransaction",
        "insert_transaction",
        "restored",
        "stored",
    },
    "controller.ocpp.settings": {"OcppSettings"},
    "controller.ocpp.transactions": {
        "good_energy_wh",
        "meter_stop_wh",
        "retry_delay_s",
        "sample_is_finite",
    },
    "controller.ocpp.tx_watch": {"TransactionWatch"},
}


def _imports(package: str) -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                out.extend((path.name, node.module, a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                out.extend((path.name, a.name, "") for a in node.names)
    return out


# Parsed at collection, before any test: CPython 3.11's parser can be left in a bad state by a
# test that ran into RecursionError (see tests/station/test_architecture.py).
IMPORTS = {p: _imports(p) for p in ("controller.ocpp201", "controller.ocpp", "controller.station")}
IMPORTS["controller.smart_charging"] = _imports("controller.smart_charging")


def test_the_201_adapter_borrows_only_protocol_free_names_of_the_16_adapter():
    for file, module, name in IMPORTS["controller.ocpp201"]:
        if module.startswith("controller.ocpp.") or module == "controller.ocpp":
            assert name in BORROWED.get(module, set()), f"{file}: {module}.{name}"
        assert not module.startswith("ocpp.v16"), f"{file} imports {module}"


def test_neither_the_16_adapter_nor_the_station_model_imports_the_201_adapter():
    for package in ("controller.ocpp", "controller.station", "controller.smart_charging"):
        for file, module, _ in IMPORTS[package]:
            assert not module.startswith("controller.ocpp201"), f"{package}/{file}"
