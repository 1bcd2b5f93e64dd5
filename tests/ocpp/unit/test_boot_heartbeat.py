"""Boot and heartbeat of the OCPP adapter on a fake clock, over an in-memory connection."""

from typing import Any

from ocpp_unit_rig import CSMS_TIME, booted, default_answer, rig, until


def _boot_script(*statuses: tuple[str, int]):
    answers = list(statuses)

    def answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action == "BootNotification":
            status, interval = answers.pop(0) if len(answers) > 1 else answers[0]
            return {"status": status, "currentTime": CSMS_TIME, "interval": interval}
        return default_answer(action, payload)

    return answer


async def test_boot_pending_then_accepted_waits_the_interval_and_sets_the_heartbeat(tmp_path):
    async with rig(tmp_path, _boot_script(("Pending", 10), ("Accepted", 7))) as r:
        svc = r.service
        await until(lambda: svc.link_state == "pending")
        assert r.csms.actions() == ["BootNotification"]
        await r.timers.advance(9.9)
        assert r.csms.actions() == ["BootNotification"]  # nothing else while Pending
        await r.timers.advance(0.1)
        await until(lambda: svc.link_state == "booted")
        boots = [t for a, _, t in r.csms.calls if a == "BootNotification"]
        assert boots[1] - boots[0] == 10
        assert svc.boot_status == "Accepted"
        assert svc.keys.get_int("HeartbeatInterval") == 7
        # After the accepted boot: a status for the station and each connector.
        await until(lambda: r.csms.actions().count("StatusNotification") == 2)


async def test_boot_rejected_sends_nothing_else_and_retries_after_the_interval(tmp_path):
    async with rig(tmp_path, _boot_script(("Rejected", 30))) as r:
        await until(lambda: r.service.link_state == "rejected")
        await r.timers.advance(29)
        assert r.csms.actions() == ["BootNotification"]
        await r.timers.advance(1)
        await until(lambda: r.csms.actions() == ["BootNotification"] * 2)
        await r.timers.advance(300)
        assert set(r.csms.actions()) == {"BootNotification"}
        assert r.service.boot_status == "Rejected"


async def test_pending_boot_retries_no_faster_than_five_seconds(tmp_path):
    async with rig(tmp_path, _boot_script(("Pending", 1))) as r:
        await until(lambda: r.service.link_state == "pending")
        await r.timers.advance(4.9)
        assert r.csms.actions() == ["BootNotification"]
        await r.timers.advance(0.1)
        await until(lambda: len(r.csms.actions()) == 2)


async def test_heartbeat_follows_the_interval_of_the_boot_answer(tmp_path):
    async with rig(tmp_path, _boot_script(("Accepted", 7))) as r:
        await booted(r)
        start = r.clock.monotonic()
        await r.timers.advance(6.9)
        assert "Heartbeat" not in r.csms.actions()
        await r.timers.advance(0.1)
        await until(lambda: r.csms.actions().count("Heartbeat") == 1)
        await r.timers.advance(7 * 3)
        beats = [t - start for a, _, t in r.csms.calls if a == "Heartbeat"]
        assert beats == [7, 14, 21, 28]


async def test_reconnect_after_an_accepted_boot_does_not_boot_again(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        await r.timers.advance(1.0)
        await until(lambda: r.service.link_state == "booted" and r.opener.attempts == 2)
        assert r.csms.actions().count("BootNotification") == 1
