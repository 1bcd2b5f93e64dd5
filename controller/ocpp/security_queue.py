"""Security events in the queue: how a new one joins those still waiting.

Types of security events this charger raises are few, and a CSMS that refuses us every few
seconds would otherwise fill the queue with the same one and delay transaction messages behind
it. So while one of a type waits it is updated (latest timestamp, a count in techInfo) instead
of queued again, and at most MAX_SECURITY_EVENTS wait, the oldest dropped first. Pure: it turns
the waiting rows into the statements of one commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from controller.durable import Statement

SECURITY_EVENT = "SecurityEventNotification"
MAX_SECURITY_EVENTS = 16


def coalesce(
    waiting: Sequence[tuple[Any, ...]], kind: str, timestamp: str, tech_info: str | None
) -> list[Statement]:
    """`waiting`: (seq, payload, repeat count, first timestamp) of the queued security events,
    oldest first; the statements that queue the new event `kind`."""
    for seq, payload, count, first in waiting:
        if json.loads(payload).get("type") != kind:
            continue
        count = (count or 1) + 1
        first = first or json.loads(payload)["timestamp"]
        note = f"{count} times since {first}"
        info = note if not tech_info else f"{tech_info} ({note})"
        updated = {"type": kind, "timestamp": timestamp, "tech_info": info[:255]}
        return [
            ("UPDATE outbox SET payload = ? WHERE seq = ?", (json.dumps(updated), seq)),
            ("INSERT OR REPLACE INTO security_repeats VALUES (?, ?, ?)", (seq, count, first)),
        ]
    payload_new = {"type": kind, "timestamp": timestamp, "tech_info": tech_info}
    statements: list[Statement] = [
        (
            "INSERT INTO outbox (action, payload) VALUES (?, ?)",
            (SECURITY_EVENT, json.dumps(payload_new)),
        )
    ]
    for seq, *_ in waiting[: max(0, len(waiting) + 1 - MAX_SECURITY_EVENTS)]:
        statements.append(("DELETE FROM outbox WHERE seq = ?", (seq,)))
    statements.append(
        ("DELETE FROM security_repeats WHERE seq NOT IN (SELECT seq FROM outbox)", ())
    )
    return statements
