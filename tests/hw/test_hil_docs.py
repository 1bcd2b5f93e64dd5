"""docs/hil.md against the code: the voltages a builder checks the rig with come from the same
circuit the twin and `chargectl selftest` use, and every figure in the results table comes from
a committed `pytest --hil --report` file (docs/hil-results/*.json), never from a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.selftest.checks import nominal_high_v
from hw.base import CpState
from hw.cp_adc import DEFAULT_OFFSET_V, DEFAULT_VOLTS_PER_UNIT
from hw.ev_rig_circuit import DEFAULT_SWITCH_GPIOS, adc_counts

DOCS = Path(__file__).resolve().parents[2] / "docs"
TEXT = (DOCS / "hil.md").read_text()


def _rows(heading: str) -> list[list[str]]:
    section = TEXT.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


@pytest.mark.parametrize("state", list(CpState))
def test_the_voltage_table_is_the_circuit(state):
    [row] = [r for r in _rows("### What each state must give at the ADC") if r[0] == state]
    high_v = nominal_high_v(state)
    assert float(row[2].removesuffix(" V")) == pytest.approx(high_v, abs=0.01)
    adc_v = (high_v - DEFAULT_OFFSET_V) / DEFAULT_VOLTS_PER_UNIT * 3.3
    assert float(row[3].removesuffix(" V")) == pytest.approx(adc_v, abs=0.01)
    assert int(row[4]) == adc_counts(high_v, DEFAULT_VOLTS_PER_UNIT, DEFAULT_OFFSET_V)


def test_the_pin_table_is_the_default_rig():
    for switch, gpio in DEFAULT_SWITCH_GPIOS.items():
        assert _pin_cell(switch.value).startswith(f"GPIO{gpio} "), switch


def _pin_cell(name: str) -> str:
    for row in _rows("### Pins"):
        if name in row[0]:
            return row[1]
    raise AssertionError(f"{name} missing from the pin table")


def test_results_are_measured_or_say_not_measured():
    reports = [json.loads(p.read_text()) for p in sorted((DOCS / "hil-results").glob("*.json"))]
    measured = {cell for r in reports if r.get("hil") for cell in r["docs_hil_md_column"].values()}
    for row in _rows("## 5. Results on real Raspberry Pis"):
        for cell in row[1:]:
            assert cell == "not measured" or cell in measured, f"{row[0]}: {cell} has no report"
