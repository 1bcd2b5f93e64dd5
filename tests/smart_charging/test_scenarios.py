"""Every scenario under scenarios/ goes through `chargectl replay` as a subprocess.

Each file carries `expect`: one object per event, checked against that event's result:
`response` (a subset of the OCPP answer), `callError` (the error code), `limitAtNow`,
`periods` ([[startPeriod, limit], ...] of the composite), `reason` (a substring).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.json"))


def _subset(expected, actual, path="response"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{path}.{k} missing in {actual!r}"
            _subset(v, actual[k], f"{path}.{k}")
    else:
        assert expected == actual, f"{path}: expected {expected!r}, got {actual!r}"


def test_there_are_enough_scenarios():
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path):
    spec = json.loads(path.read_text())
    out = subprocess.run(
        [sys.executable, "-m", "controller", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["results"]
    expect = spec["expect"]
    assert len(results) == len(spec["events"]) == len(expect)
    for i, (want, got) in enumerate(zip(expect, results, strict=True)):
        where = f"event {i} ({got['action']})"
        if "callError" in want:
            assert "callError" in got, f"{where}: expected CALLERROR, got {got}"
            assert got["callError"]["code"] == want["callError"], where
            continue
        assert "callError" not in got, f"{where}: unexpected {got['callError']}"
        if "response" in want:
            _subset(want["response"], got["response"], where)
        if "limitAtNow" in want:
            assert got["limitAtNow"] == want["limitAtNow"], f"{where}: {got['limitAtNow']}"
        if "periods" in want:
            periods = got["response"]["chargingSchedule"]["chargingSchedulePeriod"]
            assert [[p["startPeriod"], p["limit"]] for p in periods] == want["periods"], where
        if "reason" in want:
            assert want["reason"] in got.get("reason", ""), f"{where}: {got.get('reason')}"
