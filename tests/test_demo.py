"""`chargectl demo` plays the seed's story end to end and says so in its summary."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_pauses_resumes_and_exits_0(tmp_path):
    """One run of the ~30 s story serves every assertion about it."""
    png = tmp_path / "demo.png"
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", "--plot", str(png), "--json"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout.splitlines()[-1])
    assert doc["checks"] and all(doc["checks"].values()), doc["checks"]
    assert "SuspendedEVSE" in {r["ocpp_status"] for r in doc["rows"]}
    assert "pause" in out.stderr and "resume" in out.stderr  # the timeline, for a person
    assert png.stat().st_size > 10_000
    # The timeline reads true: car state and current from one instant, ending at 0 A.
    assert doc["checks"]["car stopped drawing after RemoteStop"]
    _rows_are_true(doc["rows"])
    last_line = out.stderr.rstrip().splitlines()[-1 - len(doc["checks"]) - 4]
    assert "  0.0 A    B" in last_line, out.stderr[-2000:]


def _rows_are_true(rows):
    """A row's drawn current and car state come from one instant, and the story ends at 0 A."""
    for r in rows:
        if r["cp_state"] in ("A", "B"):
            # Only a car in state C draws current (IEC 61851-1).
            assert r["drawn_a"] == 0.0, r
    assert rows[-1]["drawn_a"] == 0.0, rows[-1]
    assert rows[-1]["cp_state"] == "B", rows[-1]
    assert rows[-1]["t_s"] == max(r["t_s"] for r in rows)


@pytest.mark.slow
def test_demo_in_ocpp_201_plays_the_seed_story(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", "--ocpp", "2.0.1", "--json"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout.splitlines()[-1])
    assert doc["checks"] and all(doc["checks"].values()), doc["checks"]
    states = [r["ocpp_status"] for r in doc["rows"]]
    assert "SuspendedEVSE" in states and "Charging" in states  # the chargingState, 2.0.1's
    assert "RequestStartTransaction" in out.stderr and "RequestStopTransaction" in out.stderr
    _rows_are_true(doc["rows"])


def test_demo_in_ocpp_201_refuses_an_external_csms():
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", "--ocpp", "2.0.1", "--csms", "ws://x:1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 64
    assert "--ocpp 2.0.1" in out.stderr
