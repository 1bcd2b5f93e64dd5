"""`chargectl demo` plays the seed's story end to end and says so in its summary."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_pauses_resumes_and_exits_0(tmp_path):
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
