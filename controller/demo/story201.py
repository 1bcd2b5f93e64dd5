"""`chargectl demo --ocpp 2.0.1`: the seed story in OCPP 2.0.1 terms, against the embedded
2.0.1 CSMS: RequestStartTransaction, TxProfile 1001 (Relative, 0 A, stack level 1, naming our
transaction id) pauses, 1002 (16 A, stack level 10) resumes, RequestStopTransaction ends it.
The timeline's OCPP column shows the chargingState the station reports."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from ocpp.v201 import call

from controller.app import Charger
from controller.config import Settings
from controller.demo.csms201 import demo_csms_201
from controller.demo.csms_core import Received
from controller.demo.timeline import Story, Timeline


def tx_profile(profile_id: int, stack_level: int, limit_a: float, tx_id: str) -> dict[str, Any]:
    return {
        "id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "transaction_id": tx_id,
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": limit_a}],
            }
        ],
    }


def _event(kind: str | None = None, state: str | None = None) -> Callable[[Received], bool]:
    def match(r: Received) -> bool:
        info = r.payload.get("transaction_info") or {}
        return (kind is None or r.payload.get("event_type") == kind) and (
            state is None or info.get("charging_state") == state
        )

    return match


async def _drawn(tl: Timeline, want: Callable[[float], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if want(tl.sample().drawn_a):
            return True
        await asyncio.sleep(0.2)
    return False


async def play_201(settings: Settings, cp_id: str, out: Any) -> Story:
    """`settings` are the 1.6 demo's; the CSMS URL, the state folder and the version are set
    here."""
    story = Story()
    csms = demo_csms_201()
    url = await csms.start()
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        ocpp = attrs.evolve(settings.ocpp, url=url, version="2.0.1")
        state_dir = attrs.evolve(settings.state, dir=Path(tmp))
        charger = Charger(attrs.evolve(settings, ocpp=ocpp, state=state_dir))
        tl = Timeline(charger, story, out, time.monotonic())
        run_task = asyncio.create_task(charger.run())
        tl_task = asyncio.create_task(tl.run())
        try:
            await csms.wait_for("BootNotification", timeout_s=20)
            tl.mark("station booted (OCPP 2.0.1); the simulated car is plugged in")
            await asyncio.sleep(2)
            mark = len(csms.received)
            tl.mark("CSMS: RequestStartTransaction (idToken DEMO-TAG, remoteStartId 1)")
            token = {"id_token": "DEMO-TAG", "type": "Central"}
            await csms.call(
                cp_id, call.RequestStartTransaction(id_token=token, remote_start_id=1, evse_id=1)
            )
            started = await csms.wait_for("TransactionEvent", _event("Started"), 20, mark)
            tx_id = str(started.payload["transaction_info"]["transaction_id"])
            story.transaction_id = tx_id
            await csms.wait_for("TransactionEvent", _event(state="Charging"), 30, mark)
            story.checks["charging at the connector maximum"] = await _drawn(
                tl, lambda a: a > 30, 15
            )
            await asyncio.sleep(4)

            for profile_id, stack, limit_a, state, word in (
                (1001, 1, 0.0, "SuspendedEVSE", "pause"),
                (1002, 10, 16.0, "Charging", "resume"),
            ):
                mark = len(csms.received)
                tl.mark(
                    f"CSMS: SetChargingProfile {profile_id} (TxProfile, Relative, {limit_a:g} A, "
                    f"stack level {stack}, transactionId {tx_id[:8]}…) = {word}"
                )
                profile = tx_profile(profile_id, stack, limit_a, tx_id)
                resp = await csms.call(
                    cp_id, call.SetChargingProfile(evse_id=1, charging_profile=profile)
                )
                story.checks[f"{word} profile accepted"] = resp.status == "Accepted"
                await csms.wait_for("TransactionEvent", _event(state=state), 30, mark)
                story.checks[f"chargingState {state} reported"] = True
                if word == "pause":
                    story.checks["car stopped drawing within 3 s"] = await _drawn(
                        tl, lambda a: a < 0.1, 3.5
                    )
                    await asyncio.sleep(12)
                else:
                    story.checks["car draws about 16 A again"] = await _drawn(
                        tl, lambda a: 15.0 <= a <= 16.5, 15
                    )
                    await asyncio.sleep(4)

            mark = len(csms.received)
            tl.mark(f"CSMS: RequestStopTransaction {tx_id[:8]}…")
            await csms.call(cp_id, call.RequestStopTransaction(transaction_id=tx_id))
            ended = await csms.wait_for("TransactionEvent", _event("Ended"), 20, mark)
            events = [r.payload for r in csms.received if r.action == "TransactionEvent"]
            story.checks["one transaction, open until the stop, seqNo without gaps"] = (
                [e["seq_no"] for e in events] == list(range(len(events)))
                and [e["event_type"] for e in events].count("Started") == 1
                and events[-1] is ended.payload
            )
            begin = started.payload["meter_value"][0]["sampled_value"][0]["value"]
            end = ended.payload["meter_value"][0]["sampled_value"][0]["value"]
            story.energy_wh = float(end) - float(begin)
            story.checks["car stopped drawing after RequestStop"] = await _drawn(
                tl, lambda a: a < 0.1, 10
            )
            await asyncio.sleep(1)
        finally:
            tl_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tl_task
            if story.transaction_id is not None:
                tl.emit()
            charger.stop()
            await asyncio.wait_for(run_task, 15)
            await csms.close()
    return story
