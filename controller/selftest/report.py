"""The end-of-line record: a table for the operator, a JSON file per serial number for the
line's database, and a short text summary to print or file with the unit."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.selftest.checks import StepResult, Verdict, overall


def table(results: list[StepResult]) -> str:
    rows = [("step", "result", "measured", "expected", "note")]
    rows += [(r.name, r.verdict.upper(), r.measured, r.expected, r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)


def document(
    results: list[StepResult], serial: str, started: datetime, finished: datetime, setup: str
) -> dict[str, Any]:
    return {
        "serial_number": serial,
        "result": overall(results).value,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "setup": setup,
        "steps": [
            {
                "name": r.name,
                "result": r.verdict.value,
                "measured": r.measured,
                "expected": r.expected,
                "note": r.detail,
                "values": dict(r.values),
            }
            for r in results
        ],
    }


def safe_name(serial: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", serial)[:64] or "unknown"


def write(directory: Path, doc: dict[str, Any], results: list[StepResult]) -> tuple[Path, Path]:
    """`<serial>-<UTC time>.json` and `.txt`: one pair per run, so a retest never overwrites
    the record of a failure."""
    stamp = datetime.fromisoformat(doc["finished"]).strftime("%Y%m%dT%H%M%SZ")
    base = directory / f"selftest-{safe_name(doc['serial_number'])}-{stamp}"
    json_path, text_path = base.with_suffix(".json"), base.with_suffix(".txt")
    directory.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    failed = [r for r in results if r.verdict is Verdict.FAIL]
    summary = [
        f"chargectl selftest: {doc['result'].upper()}",
        f"serial number: {doc['serial_number']}",
        f"finished: {doc['finished']}",
        f"setup: {doc['setup']}",
        f"steps: {len(results)}, failed: {len(failed)}, "
        f"skipped: {sum(r.verdict is Verdict.SKIP for r in results)}",
        "",
        table(results),
        "",
    ]
    if failed:
        summary.append("To fix:")
        summary += [f"- {r.name}: {r.detail or r.measured}" for r in failed]
    text_path.write_text("\n".join(summary) + "\n")
    return json_path, text_path
