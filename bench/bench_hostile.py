"""The longest event-loop stall while a CSMS asks for composite schedules of 2^31-1 s."""

from __future__ import annotations

import asyncio

from bench.hostile import composite_under_attack


def run() -> list[tuple[str, str, str]]:
    result = asyncio.run(composite_under_attack(requests=8))
    return [
        (
            "longest event-loop stall, GetCompositeSchedule 2^31-1 s",
            f"{result.longest_stall_s * 1e3:.1f} ms",
            "<= 100 ms",
        ),
        (
            "longest event-loop stall, same charger idle as long",
            f"{result.idle_stall_s * 1e3:.1f} ms",
            "-",
        ),
        ("largest GetCompositeSchedule reply", f"{result.largest_reply_bytes / 1024:.1f} kB", "-"),
    ]
