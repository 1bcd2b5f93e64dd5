"""The event loop's worst stall with every fsync taking 200 ms (an old SD card)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import slow_fsync


def run() -> list[tuple[str, str, str, str, str]]:
    seconds = os.environ.get("CHARGECTL_BENCH_TICK_S", "30")
    with tempfile.TemporaryDirectory() as tmp:
        lib = slow_fsync.build(Path(tmp))
        if lib is None:
            return [("worst tick, 200 ms fsync", "no C compiler", "-", "-", "<= 20 ms")]
        env = {**os.environ, "LD_PRELOAD": str(lib), "SLOW_FSYNC_MS": "200"}
        out = subprocess.run(
            [sys.executable, "-m", "bench.tick_probe", seconds],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    charging_s, profile_s = (float(x) for x in out.stdout.split()[-2:])
    return [
        (
            f"worst event-loop stall, 200 ms fsync, charging {seconds} s",
            f"{charging_s * 1e3:.1f} ms",
            "-",
            "-",
            "<= 20 ms",
        ),
        (
            "worst event-loop stall, 200 ms fsync, one SetChargingProfile",
            f"{profile_s * 1e3:.1f} ms",
            "-",
            "-",
            "-",
        ),
    ]
