"""The parts of the status document (`chargectl status --json`, the dashboard, /metrics,
diagnostics) that describe a connector and the installed profiles.

Fields are only ever added, never renamed: scripts and the dashboard read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from controller.charger.unit import ConnectorUnit
from controller.smart_charging.model import InstalledProfile
from controller.station.model import TransactionInfo


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def connector_document(
    cid: int,
    u: ConnectorUnit,
    *,
    driver: str,
    ocpp_status: str,
    pause_reason: str | None,
    tx: TransactionInfo | None,
) -> dict[str, Any]:
    status, sample, lim = u.status, u.sample, u.limit
    return {
        "id": cid,
        "driver": driver,
        "ocpp_status": ocpp_status,
        "cp_state": status.cp_state.value if status else None,
        "offered_a": status.offered_a if status else None,
        "contactor_closed": status.contactor_closed if status else None,
        "drawn_a": max(sample.current_a) if sample else None,
        "power_w": sample.power_w if sample else None,
        "energy_wh": sample.energy_wh if sample else None,
        "fault": (str(status.fault or "") if status else "") or u.last_error,
        "fault_kind": status.fault.kind.value if status and status.fault else None,
        "limit_source": u.limit_source,
        "rating_a": u.max_current_a,
        "pause_reason": pause_reason,
        "limit": None
        if lim is None
        else {
            "value": lim.value,
            "unit": lim.unit,
            "source": None
            if lim.source is None
            else {
                "profile_id": lim.source.profile_id,
                "purpose": lim.source.purpose,
                "stack_level": lim.source.stack_level,
                "connector_id": lim.source.connector_id,
            },
            "next_change": iso(lim.next_change),
        },
        "transaction": None
        if tx is None
        else {
            "transaction_id": tx.central_id,
            "id_tag": tx.id_tag,
            "start": iso(tx.start),
            "meter_start_wh": tx.meter_start_wh,
        },
    }


def profiles_document(installed: Iterable[InstalledProfile]) -> list[dict[str, Any]]:
    return [
        {
            "id": p.profile.profile_id,
            "connector_id": p.connector_id,
            "purpose": str(p.profile.purpose),
            "stack_level": p.profile.stack_level,
            "kind": str(p.profile.kind),
        }
        for p in installed
    ]
