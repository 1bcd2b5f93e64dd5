"""`chargectl replay SCENARIO.json`: what would this charger do with these OCPP messages?

A what-if tool for CSMS authors and the black-box surface of the smart-charging engine: the
events of the scenario go through the same profile store and evaluator the service uses, at the
times the scenario gives, and the answers come out as JSON (or, with --table, as a timeline that
shows which profile sets each interval's limit). Only a malformed scenario file makes it exit
non-zero (`replay_scenario` reads and checks it); everything the engine refuses is an OCPP
answer in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from controller.replay_scenario import Event, ScenarioError, load_scenario
from controller.smart_charging import ProfileStore, SetResult, SmartChargingConfig
from controller.smart_charging.convert import iso
from controller.smart_charging.evaluator import Piece, epoch, from_epoch, hardware_max
from controller.smart_charging.model import RateUnit

EXIT_BAD_SCENARIO = 2


def _call_error(code: str, description: str) -> dict[str, Any]:
    return {"callError": {"code": code, "description": description}}


def _set_answer(result: SetResult) -> dict[str, Any]:
    if result.call_error:
        return _call_error(result.call_error, result.reason)
    out: dict[str, Any] = {"response": {"status": result.status}}
    if result.reason:
        out["reason"] = result.reason
    return out


class Replayer:
    """Applies scenario events to a fresh in-memory store."""

    def __init__(self, config: SmartChargingConfig) -> None:
        self.store = ProfileStore(config)
        self.config = config
        self.remote_profiles: dict[int, Mapping[str, Any] | None] = {}

    def apply(self, ev: Event) -> dict[str, Any]:
        handler = getattr(self, "_" + ev.action)
        body: dict[str, Any] = handler(ev)
        return {"action": ev.action, "at": iso(ev.at), **body}

    def _StartTransaction(self, ev: Event) -> dict[str, Any]:
        cid = int(ev.data["connectorId"])
        tid = int(ev.data["transactionId"])
        if not 1 <= cid <= self.config.number_of_connectors:
            return _call_error("PropertyConstraintViolation", f"connector {cid} does not exist")
        if self.store.transaction(cid) is not None:
            return _call_error(
                "OccurrenceConstraintViolation", f"connector {cid} already has a transaction"
            )
        profile = self.remote_profiles.pop(cid, None)
        result = self.store.transaction_started(cid, tid, ev.at, profile)
        out: dict[str, Any] = {
            "response": {"transactionId": tid, "idTagInfo": {"status": "Accepted"}}
        }
        if result is not None and not result.accepted:
            out["reason"] = f"RemoteStart profile not installed: {result.reason}"
        return out

    def _StopTransaction(self, ev: Event) -> dict[str, Any]:
        cid = int(ev.data["connectorId"])
        if self.store.transaction(cid) is None:
            return _call_error("PropertyConstraintViolation", f"no transaction on connector {cid}")
        self.store.transaction_stopped(cid)
        return {"response": {"idTagInfo": {"status": "Accepted"}}}

    def _SetChargingProfile(self, ev: Event) -> dict[str, Any]:
        req = ev.data["request"]
        cid = req.get("connectorId")
        if isinstance(cid, bool) or not isinstance(cid, int):
            return _call_error("FormatViolation", "connectorId: required integer")
        profile = req.get("csChargingProfiles")
        if not isinstance(profile, Mapping):
            return _call_error("FormatViolation", "csChargingProfiles: required object")
        return _set_answer(self.store.set_charging_profile(cid, profile, ev.at))

    def _RemoteStartTransaction(self, ev: Event) -> dict[str, Any]:
        req = ev.data["request"]
        if not isinstance(req.get("idTag"), str):
            return _call_error("FormatViolation", "idTag: required string")
        cid = req.get("connectorId")
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int)):
            return _call_error("FormatViolation", "connectorId: must be an integer")
        profile = req.get("chargingProfile")
        if profile is not None:
            result = self.store.check_remote_start_profile(cid, profile, ev.at)
            if not result.accepted:
                return _set_answer(result)
        target = cid if cid is not None else 1
        if not 1 <= target <= self.config.number_of_connectors:
            return {"response": {"status": "Rejected"}, "reason": f"no connector {target}"}
        if self.store.transaction(target) is not None:
            return {
                "response": {"status": "Rejected"},
                "reason": f"connector {target} already has a transaction",
            }
        self.remote_profiles[target] = profile
        return {"response": {"status": "Accepted"}}

    def _ClearChargingProfile(self, ev: Event) -> dict[str, Any]:
        req = ev.data["request"]
        kw: dict[str, Any] = {}
        for wire, name in (
            ("id", "profile_id"),
            ("connectorId", "connector_id"),
            ("stackLevel", "stack_level"),
        ):
            v = req.get(wire)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                return _call_error("FormatViolation", f"{wire}: must be an integer")
            kw[name] = v
        purpose = req.get("chargingProfilePurpose")
        if purpose is not None and purpose not in (
            "ChargePointMaxProfile",
            "TxDefaultProfile",
            "TxProfile",
        ):
            return _call_error("FormatViolation", f"chargingProfilePurpose: {purpose!r}")
        status = self.store.clear_charging_profile(purpose=purpose, **kw)
        return {"response": {"status": status}}

    def _GetCompositeSchedule(self, ev: Event) -> dict[str, Any]:
        req = ev.data["request"]
        cid, duration = req.get("connectorId"), req.get("duration")
        for name, v in (("connectorId", cid), ("duration", duration)):
            if isinstance(v, bool) or not isinstance(v, int):
                return _call_error("FormatViolation", f"{name}: required integer")
        unit = req.get("chargingRateUnit")
        if unit is not None and unit not in ("A", "W"):
            return _call_error("PropertyConstraintViolation", f"chargingRateUnit: {unit!r}")
        assert isinstance(cid, int) and isinstance(duration, int)
        schedule = self.store.composite_schedule(cid, ev.at, duration, unit)
        if schedule is None:
            return {"response": {"status": "Rejected"}, "limitAtNow": None}
        limit_now = None
        if cid >= 1:
            limit_now = self.store.limit_at(cid, ev.at, unit or "A").value
        elif self.config.number_of_connectors == 1:
            limit_now = self.store.limit_at(1, ev.at, unit or "A").value
        else:
            limit_now = self.store.station_limit_at(ev.at, unit or "A").value
        return {
            "response": {
                "status": "Accepted",
                "connectorId": cid,
                "scheduleStart": schedule["startSchedule"],
                "chargingSchedule": schedule,
            },
            "limitAtNow": limit_now,
        }


Trail = list[tuple[Event, dict[str, Any], list[Piece] | None]]


def _table(trail: Trail, rep_config: SmartChargingConfig) -> str:
    lines = []
    for ev, result, pieces in trail:
        answer = (
            f"CALLERROR {result['callError']['code']}: {result['callError']['description']}"
            if "callError" in result
            else json.dumps(result["response"].get("status", result["response"]))
        )
        if "reason" in result:
            answer += f" ({result['reason']})"
        lines.append(f"{iso(ev.at)}  {ev.action:<22} -> {answer}")
        if pieces is not None:
            req = ev.data["request"]
            unit = req.get("chargingRateUnit") or "A"
            duration = int(req["duration"])
            hw = "no profile (hardware maximum)"
            for p in pieces:
                if duration == 0 and p is not pieces[0]:
                    break
                start = from_epoch(p.start)
                end = from_epoch(min(p.end, epoch(ev.at) + max(duration, 1)))
                fill = hardware_max(RateUnit(unit), rep_config, int(req["connectorId"]))
                value = f"{fill if p.value is None else p.value:8.1f} {unit}"
                who = (
                    hw
                    if p.source is None
                    else f"profile {p.source.profile_id} ({p.source.purpose}, "
                    f"stack level {p.source.stack_level}, connector {p.source.connector_id})"
                )
                lines.append(f"    {iso(start)} .. {iso(end)}  {value}  set by {who}")
            lines.append(f"    limit now: {result['limitAtNow']}")
    return "\n".join(lines)


def replay(text: str) -> tuple[list[dict[str, Any]], Trail]:
    """Apply every event; also keep, per accepted GetCompositeSchedule, the pieces with
    their sources as they were at that instant (for --table)."""
    config, events = load_scenario(text)
    rep = Replayer(config)
    results = []
    trail: Trail = []
    for ev in events:
        r = rep.apply(ev)
        results.append(r)
        pieces = None
        if ev.action == "GetCompositeSchedule" and r.get("response", {}).get("status") == (
            "Accepted"
        ):
            req = ev.data["request"]
            pieces = rep.store.composite_pieces(
                int(req["connectorId"]),
                ev.at,
                int(req["duration"]),
                req.get("chargingRateUnit") or "A",
            )
        trail.append((ev, r, pieces))
    return results, trail


def replay_command(args: argparse.Namespace) -> int:
    try:
        with open(args.scenario, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        print(f"{args.scenario}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_SCENARIO
    try:
        config, _ = load_scenario(text)
        results, trail = replay(text)
    except ScenarioError as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return EXIT_BAD_SCENARIO
    if args.table:
        print(_table(trail, config))
    else:
        print(json.dumps({"results": results}, indent=2))
    return 0
