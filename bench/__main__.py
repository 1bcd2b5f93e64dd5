"""Run every benchmark and print one table: metric, measured, target."""

from __future__ import annotations

import importlib
import platform
import sys

MODULES = [
    "bench.bench_evaluator",
    "bench.bench_service",
    "bench.bench_hostile",
    "bench.bench_polling",
]


def main() -> int:
    rows: list[tuple[str, str, str]] = []
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
        rows.extend(mod.run())
    cpu = platform.processor() or platform.machine()
    print(f"machine: {platform.node()} {cpu}, Python {platform.python_version()}")
    w = max(len(r[0]) for r in rows) if rows else 10
    print(f"| {'metric':<{w}} | {'measured':>14} | {'target':>10} |")
    print(f"|{'-' * (w + 2)}|{'-' * 16}|{'-' * 12}|")
    for metric, measured, target in rows:
        print(f"| {metric:<{w}} | {measured:>14} | {target:>10} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
