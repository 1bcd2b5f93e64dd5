"""Run every benchmark and print one table: metric, project, floor, ratio, target.

The floor is a minimal charge point on the same libraries (bench/floor_cp.py), measured in the
same run; rows without a floor show "-"."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path

MODULES = [
    "bench.bench_evaluator",
    "bench.bench_service",
    "bench.bench_idle_charging",
    "bench.bench_slow_fsync",
    "bench.bench_hostile",
    "bench.bench_polling",
]

Row = tuple[str, str, str, str, str]


def _widen(row: tuple[str, ...]) -> Row:
    if len(row) == 5:
        return row  # type: ignore[return-value]
    metric, measured, target = row
    return (metric, measured, "-", "-", target)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    rows: list[Row] = []
    only = sys.argv[1:]
    for name in MODULES:
        if only and not any(o in name for o in only):
            continue
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        rows.extend(_widen(r) for r in mod.run())
    print(
        f"machine: {_cpu_model()}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    head = ("metric", "project", "floor", "ratio", "target")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
