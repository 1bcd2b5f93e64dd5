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
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from controller.app import Charger
from controller.config import ConfigError, Settings, make_settings
from controller.demo.plot import missing_plot_extra, plot_story
from controller.demo.timeline import Story, Timeline
from controller.logs import setup_logging

CP_ID_DEFAULT = "DEMO01"
EXIT_USAGE = 64  # sysexits.h EX_USAGE: the command cannot run as asked
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


def _settings(url: str, cp_id: str, state_dir: Path) -> Settings:
    return make_settings(
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


async def _status_is(csms: Any, status: str, timeout_s: float, since: int = 0) -> None:
    await csms.wait_for(
        "StatusNotification",
        lambda r: r.payload.get("connector_id") == 1 and r.payload.get("status") == status,
        timeout_s=timeout_s,
        since=since,
    )


async def _drawn_settles(tl: Timeline, want: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if want(tl.sample().drawn_a):
            return True
        await asyncio.sleep(0.2)
    return False


async def _play_house(cp_id: str, out: Any) -> Story:
    from controller.demo.csms import DemoCsms
    from controller.demo.house import house_settings, play_house

    csms = DemoCsms()
    url = await csms.start()
    try:
        settings = house_settings(_settings(url, cp_id, Path(".")))
        return await play_house(settings, csms, cp_id, out)
    finally:
        await csms.close()


async def _play(cp_id: str, out: Any) -> Story:
    from ocpp.v16 import call

    from controller.demo.csms import DemoCsms

    story = Story()
    csms = DemoCsms()
    url = await csms.start()
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        charger = Charger(_settings(url, cp_id, Path(tmp)))
        t0 = time.monotonic()
        tl = Timeline(charger, story, out, t0)
        run_task = asyncio.create_task(charger.run())
        tl_task = asyncio.create_task(tl.run())
        try:
            await csms.wait_for("BootNotification", timeout_s=20)
            tl.mark("charger booted; the simulated car is plugged in")
            await asyncio.wait_for(charger.web_ready.wait(), 10)
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
            # The story ends when the car has stopped drawing, not when the CSMS has its answer.
            story.checks["car stopped drawing after RemoteStop"] = await _drawn_settles(
                tl, lambda a: a < 0.1, 10
            )
            await asyncio.sleep(1)
        finally:
            tl_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tl_task
            if story.transaction_id is not None:
                tl.emit()  # the last row shows the end state, whatever the sampling phase
            charger.stop()
            await asyncio.wait_for(run_task, 15)
            await csms.close()
    return story


def _summary(story: Story, out: Any) -> None:
    print("", file=out)
    print("Summary", file=out)
    print(f"  transaction {story.transaction_id}: {story.energy_wh:.0f} Wh delivered", file=out)
    for name, ok in story.checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}", file=out)


async def _attach(url: str, cp_id: str, out: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        charger = Charger(_settings(url, cp_id, Path(tmp)))
        story = Story()
        tl = Timeline(charger, story, out, time.monotonic())
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


def _usage_problem(args: argparse.Namespace) -> str | None:
    """A mistake in the arguments, found before the story starts (it takes half a minute)."""
    try:
        _settings(args.csms or "ws://127.0.0.1:9000", args.charge_point_id, Path("."))
    except ConfigError as exc:
        option = "--csms" if "ocpp.url" in str(exc) else "--charge-point-id"
        given = args.csms if option == "--csms" else args.charge_point_id
        reason = str(exc).splitlines()[-1].rsplit(": ", 1)[-1]
        return f"demo {option} {given!r}: {reason}"
    if getattr(args, "house", False) and args.csms:
        return "demo --house plays its own story with the embedded CSMS: leave out --csms"
    if getattr(args, "ocpp", "1.6") == "2.0.1" and (args.csms or getattr(args, "house", False)):
        return "demo --ocpp 2.0.1 plays the seed story with its embedded CSMS only"
    if args.plot:
        why = missing_plot_extra()
        if why is not None:
            return why
        folder = Path(args.plot).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"demo --plot {args.plot}: cannot write into {folder}"
    return None


def demo_command(args: argparse.Namespace) -> int:
    problem = _usage_problem(args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    setup_logging("warning")
    # With --json, stdout carries only the JSON document; the timeline goes to stderr.
    out = sys.stderr if args.json else sys.stdout
    if args.csms:
        try:
            return asyncio.run(_attach(args.csms, args.charge_point_id, out))
        except KeyboardInterrupt:
            return 0
    try:
        play = _play_house if getattr(args, "house", False) else _play
        if getattr(args, "ocpp", "1.6") == "2.0.1":
            from controller.demo.story201 import play_201

            settings = _settings("ws://127.0.0.1:9000", args.charge_point_id, Path("."))
            story = asyncio.run(play_201(settings, args.charge_point_id, out))
        else:
            story = asyncio.run(play(args.charge_point_id, out))
    except TimeoutError:
        print("demo: the charger did not do what the CSMS asked in time", file=sys.stderr)
        return 1
    _summary(story, out)
    if args.plot:
        plot_story(story, args.plot)
        print(f"  chart written to {args.plot}", file=out)
    if args.json:
        print(json.dumps({"checks": story.checks, "rows": [asdict(r) for r in story.rows]}))
        sys.stdout.flush()
    return 0 if story.checks and all(story.checks.values()) else 1
