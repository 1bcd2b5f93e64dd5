"""`chargectl demo`: the whole story with no hardware and no CSMS of your own.

An embedded CSMS (a real OCPP 1.6J peer over a websocket on 127.0.0.1) drives the same charger
that `chargectl run` builds, with the simulator driver: the same pilot state machine, wired to a
simulated car instead of pins. The CSMS starts a session, pauses it with the TxProfile
1001 (Relative, 0 A, stack level 1), resumes it with 1002 (16 A, stack level 10) and stops it; a
timeline shows what the car is offered and what it draws, second by second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from controller.app import Charger
from controller.config import Settings
from controller.logs import setup_logging

CP_ID_DEFAULT = "DEMO01"
PAUSE_PROFILE: dict[str, Any] = {
    "chargingProfileId": 1001,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}],
    },
}
RESUME_PROFILE: dict[str, Any] = {
    "chargingProfileId": 1002,
    "stackLevel": 10,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
    },
}


@dataclass(slots=True)
class Row:
    t_s: float
    offered_a: float
    drawn_a: float
    cp_state: str
    ocpp_status: str
    limit: str
    event: str = ""


@dataclass
class Story:
    rows: list[Row] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    transaction_id: int | None = None
    energy_wh: float = 0.0


def _settings(url: str, cp_id: str, state_dir: Path) -> Settings:
    return Settings(
        ocpp={"url": url, "charge_point_id": cp_id},
        state={"dir": state_dir},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={
            "plugged_in": True,
            "ev_max_current_a": 32,
            "ev_response_s": 1.0,
            "ev_sleep_after_pause_s": 0,
        },
        pilot={"min_pause_s": 10},
        log_level="warning",
    )


class _Timeline:
    """Samples the charger once a second and prints a line for a person to follow."""

    HEADER = f"{'time':>6}  {'offered':>8}  {'drawn':>7}  {'car':>3}  {'OCPP status':<14} limit"

    def __init__(self, charger: Charger, story: Story, out: Any, started: float) -> None:
        self._charger = charger
        self._story = story
        self._out = out
        self._t0 = started
        self._pending_event = ""

    def mark(self, text: str) -> None:
        t = time.monotonic() - self._t0
        self._story.events.append((t, text))
        print(f"{t:6.1f}  >>> {text}", file=self._out, flush=True)

    def sample(self) -> Row:
        doc = self._charger.status_document()["connectors"][0]
        lim = doc.get("limit") or {}
        src = lim.get("source")
        limit = "-" if lim.get("value") is None else f"{lim['value']:.1f} A"
        if src:
            limit += f" (profile {src['profile_id']}, stack level {src['stack_level']})"
        return Row(
            t_s=time.monotonic() - self._t0,
            offered_a=float(doc.get("offered_a") or 0.0),
            drawn_a=float(doc.get("drawn_a") or 0.0),
            cp_state=str(doc.get("cp_state") or "-"),
            ocpp_status=str(doc.get("ocpp_status") or "-"),
            limit=limit,
        )

    async def run(self) -> None:
        print(self.HEADER, file=self._out, flush=True)
        while True:
            row = self.sample()
            self._story.rows.append(row)
            print(
                f"{row.t_s:6.1f}  {row.offered_a:6.1f} A  {row.drawn_a:5.1f} A  {row.cp_state:>3}  "
                f"{row.ocpp_status:<14} {row.limit}",
                file=self._out,
                flush=True,
            )
            await asyncio.sleep(1.0 - ((time.monotonic() - self._t0) % 1.0))


async def _status_is(csms: Any, status: str, timeout_s: float, since: int = 0) -> None:
    await csms.wait_for(
        "StatusNotification",
        lambda r: r.payload.get("connector_id") == 1 and r.payload.get("status") == status,
        timeout_s=timeout_s,
        since=since,
    )


async def _drawn_settles(tl: _Timeline, want: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if want(tl.sample().drawn_a):
            return True
        await asyncio.sleep(0.2)
    return False


async def _play(cp_id: str, out: Any) -> Story:
    from ocpp.v16 import call

    from controller.demo.csms import DemoCsms

    story = Story()
    csms = DemoCsms()
    url = await csms.start()
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        charger = Charger(_settings(url, cp_id, Path(tmp)))
        t0 = time.monotonic()
        tl = _Timeline(charger, story, out, t0)
        run_task = asyncio.create_task(charger.run())
        tl_task = asyncio.create_task(tl.run())
        try:
            await csms.wait_for("BootNotification", timeout_s=20)
            tl.mark("charger booted; the simulated car is plugged in")
            tl.mark(f"watch it live: {(charger.web and charger.web.url) or 'dashboard off'}")
            await asyncio.sleep(2)

            mark = len(csms.received)
            tl.mark("CSMS: RemoteStartTransaction (idTag DEMO-TAG)")
            await csms.call(cp_id, call.RemoteStartTransaction(id_tag="DEMO-TAG", connector_id=1))
            start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
            story.transaction_id = int(start.payload["_assigned_transaction_id"])
            await _status_is(csms, "Charging", 30, since=mark)
            story.checks["charging at the connector maximum"] = await _drawn_settles(
                tl, lambda a: a > 30, 15
            )
            await asyncio.sleep(4)

            mark = len(csms.received)
            tl.mark(
                "CSMS: SetChargingProfile 1001 (TxProfile, Relative, 0 A, stack level 1) = pause"
            )
            resp = await csms.call(
                cp_id,
                call.SetChargingProfile(
                    connector_id=1,
                    cs_charging_profiles={**PAUSE_PROFILE, "transactionId": story.transaction_id},
                ),
            )
            story.checks["pause profile accepted"] = resp.status == "Accepted"
            await _status_is(csms, "SuspendedEVSE", 10, since=mark)
            story.checks["car stopped drawing within 3 s"] = await _drawn_settles(
                tl, lambda a: a < 0.1, 3.5
            )
            await asyncio.sleep(12)

            mark = len(csms.received)
            tl.mark(
                "CSMS: SetChargingProfile 1002 (TxProfile, Relative, 16 A, stack level 10) = resume"
            )
            resp = await csms.call(
                cp_id,
                call.SetChargingProfile(
                    connector_id=1,
                    cs_charging_profiles={**RESUME_PROFILE, "transactionId": story.transaction_id},
                ),
            )
            story.checks["resume profile accepted"] = resp.status == "Accepted"
            await _status_is(csms, "Charging", 30, since=mark)
            story.checks["car draws about 16 A again"] = await _drawn_settles(
                tl, lambda a: 15.0 <= a <= 16.5, 15
            )
            await asyncio.sleep(4)
            comp = await csms.call(
                cp_id,
                call.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="A"),
            )
            periods = (comp.charging_schedule or {}).get("charging_schedule_period", [])
            tl.mark(f"CSMS: GetCompositeSchedule -> {[float(p['limit']) for p in periods]} A")

            mark = len(csms.received)
            tl.mark(f"CSMS: RemoteStopTransaction {story.transaction_id}")
            await csms.call(cp_id, call.RemoteStopTransaction(transaction_id=story.transaction_id))
            stop = await csms.wait_for("StopTransaction", timeout_s=20, since=mark)
            starts = [r for r in csms.received if r.action == "StartTransaction"]
            stops = [r for r in csms.received if r.action == "StopTransaction"]
            story.checks["one transaction from start to stop"] = (
                len(starts) == 1
                and len(stops) == 1
                and stop.payload.get("transaction_id") == story.transaction_id
            )
            story.energy_wh = float(stop.payload["meter_stop"]) - float(
                start.payload["meter_start"]
            )
            await asyncio.sleep(2)
        finally:
            tl_task.cancel()
            charger.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await tl_task
            await asyncio.wait_for(run_task, 15)
            await csms.close()
    return story


def _summary(story: Story, out: Any) -> None:
    print("", file=out)
    print("Summary", file=out)
    print(f"  transaction {story.transaction_id}: {story.energy_wh:.0f} Wh delivered", file=out)
    for name, ok in story.checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}", file=out)


def _plot(story: Story, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r.t_s for r in story.rows]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.step(t, [r.offered_a for r in story.rows], where="post", label="offered (pilot)")
    ax.step(t, [r.drawn_a for r in story.rows], where="post", label="drawn by the car")
    for at, text in story.events:
        if text.startswith("CSMS:") and "GetCompositeSchedule" not in text:
            ax.axvline(at, color="grey", linestyle=":", linewidth=1)
            ax.annotate(
                text.removeprefix("CSMS: ").split(" (")[0],
                (at, 33),
                rotation=90,
                fontsize=7,
                va="top",
                ha="right",
            )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("current (A)")
    ax.set_ylim(-1, 35)
    ax.set_title("chargectl demo: pause with TxProfile 1001 (0 A), resume with 1002 (16 A)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


async def _attach(url: str, cp_id: str, out: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        charger = Charger(_settings(url, cp_id, Path(tmp)))
        story = Story()
        tl = _Timeline(charger, story, out, time.monotonic())
        print(f"simulated charger {cp_id} attached to {url}/{cp_id}; Ctrl-C to stop", file=out)
        run_task = asyncio.create_task(charger.run())
        tl_task = asyncio.create_task(tl.run())
        try:
            await run_task
        finally:
            tl_task.cancel()
            charger.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await tl_task
    return 0


def demo_command(args: argparse.Namespace) -> int:
    setup_logging("warning")
    # With --json, stdout carries only the JSON document; the timeline goes to stderr.
    out = sys.stderr if args.json else sys.stdout
    if args.csms:
        try:
            return asyncio.run(_attach(args.csms, args.charge_point_id, out))
        except KeyboardInterrupt:
            return 0
    try:
        story = asyncio.run(_play(args.charge_point_id, out))
    except TimeoutError:
        print("demo: the charger did not do what the CSMS asked in time", file=sys.stderr)
        return 1
    _summary(story, out)
    if args.plot:
        _plot(story, args.plot)
        print(f"  chart written to {args.plot}", file=out)
    if args.json:
        print(json.dumps({"checks": story.checks, "rows": [asdict(r) for r in story.rows]}))
        sys.stdout.flush()
    return 0 if story.checks and all(story.checks.values()) else 1
