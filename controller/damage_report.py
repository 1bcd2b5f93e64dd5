"""Saying out loud that a state file was damaged: in the log and to the CSMS.

A damaged file is replaced by an empty one so the charger keeps working, but what it held is
gone: the person reading the journal and the operator at the CSMS must both learn which file,
what was lost and what the charger does about it. The CSMS hears it as a
SecurityEventNotification queued in the outbox, so it is delivered after the next accepted boot
even if the link is down now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from controller.durable import Damage

log = logging.getLogger("chargectl")

EVENT_TYPE = "StateFileDamaged"  # SecurityEventNotification.type, CiString50


class StateFile(StrEnum):
    PROFILES = "profiles"
    OCPP = "ocpp"


_LOST = {
    StateFile.PROFILES: "the installed charging profiles (a ChargePointMaxProfile supply cap "
    "among them, if there was one)",
    StateFile.OCPP: "queued transaction messages, open transactions and the configuration "
    "keys set by the CSMS",
}


class _Queue(Protocol):
    def enqueue(
        self, action: str, payload: dict[str, object], tx_key: str | None = None
    ) -> None: ...


def describe(kind: StateFile, damage: Damage, fallback_current_a: float | None) -> str:
    """One sentence for people: which file, why, what was lost, what the charger does now."""
    text = (
        f"state file {damage.path} was damaged ({damage.reason}); kept as {damage.moved_to.name}; "
        f"lost: {_LOST[kind]}"
    )
    if kind is StateFile.PROFILES and fallback_current_a is not None:
        text += (
            f"; every connector is held to {fallback_current_a:g} A "
            "(station.fallback_current_a) until the CSMS sends a charging profile again"
        )
    return text


def report(
    damages: Sequence[tuple[StateFile, Damage]],
    queue: _Queue,
    now: datetime,
    fallback_current_a: float,
) -> None:
    for kind, damage in damages:
        log.error("%s", describe(kind, damage, fallback_current_a))
        info = f"{damage.path.name}: {damage.reason}; lost {kind.value} state"
        if kind is StateFile.PROFILES:
            info += f"; limit {fallback_current_a:g} A per connector until profiles are sent"
        queue.enqueue(
            "SecurityEventNotification",
            {
                "type": EVENT_TYPE,
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "tech_info": info[:255],
            },
        )
