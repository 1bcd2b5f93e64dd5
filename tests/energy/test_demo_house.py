"""`chargectl demo --house` shows the main-fuse guard without hardware (issue 14, item 5)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_house_pauses_for_the_cooker_recovers_and_falls_back(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", "--house", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout.splitlines()[-1])
    assert doc["checks"] == {
        "charging at 16 A": True,
        "offer lowered within 2 s of the load step": True,
        "back to 16 A once the headroom lasted": True,
        "fallback 6 A after 5 s without a reading": True,
        "no phase over the fuse for longer than 2 s": True,
    }
    limits = {r["limit"] for r in doc["rows"]}
    assert any(s.startswith("main fuse: L2 at ") for s in limits), limits
    assert "status says: main fuse: grid meter silent for" in out.stderr


def test_demo_house_refuses_an_external_csms():
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", "--house", "--csms", "ws://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 64
    assert "leave out --csms" in out.stderr
