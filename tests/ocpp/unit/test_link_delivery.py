"""Reconnect backoff and queue delivery of the OCPP adapter, on a fake clock, in memory."""

from typing import Any

import pytest
from ocpp_unit_rig import booted, default_answer, rig, until

from controller.ocpp.link import backoff
from hw.base import CpState


def test_backoff_doubles_to_the_cap_and_jitters_between_half_and_all():
    assert backoff(1.0, 60.0, 0.0) == (0.5, 2.0)
    assert backoff(1.0, 60.0, 1.0) == (1.0, 2.0)
    assert backoff(64.0, 60.0, 1.0) == (60.0, 60.0)
    assert backoff(64.0, 60.0, 0.0) == (30.0, 60.0)


async def test_reconnect_waits_grow_with_jitter_within_bounds(tmp_path):
    async with rig(tmp_path, max_backoff_s=16.0) as r:
        r.opener.refuse = True
        await until(lambda: r.opener.attempts == 1 and len(r.timers.sleeps) == 1)
        for _ in range(8):
            await r.timers.advance(r.timers.sleeps[-1])
        waits = r.timers.sleeps[:8]
        nominal = [1, 2, 4, 8, 16, 16, 16, 16]
        for wait, full in zip(waits, nominal, strict=True):
            assert full / 2 <= wait <= full, (waits, nominal)
        assert len(set(waits)) == len(waits)  # jittered, not a fixed ladder
        assert r.opener.attempts == 9
        assert r.service.link_state == "offline"
        # Back online: it connects after the current wait, and boots.
        r.opener.refuse = False
        await r.timers.advance(r.timers.sleeps[-1])
        await booted(r)


async def test_a_connection_that_lasted_resets_the_backoff(tmp_path):
    async with rig(tmp_path) as r:
        r.opener.refuse = True
        await until(lambda: len(r.timers.sleeps) == 1)
        for _ in range(4):
            await r.timers.advance(r.timers.sleeps[-1])
        assert r.timers.sleeps[-1] > 8  # fifth wait: nominal 16 s
        r.opener.refuse = False
        await r.timers.advance(r.timers.sleeps[-1])
        await booted(r)
        await r.timers.advance(31)
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        assert r.timers.sleeps[-1] <= 1.0


def _meter_payload(n: int) -> dict[str, Any]:
    return {
        "connector_id": 1,
        "meter_value": [
            {
                "timestamp": "2024-05-01T10:00:00Z",
                "sampled_value": [{"value": str(n), "measurand": "Energy.Active.Import.Register"}],
            }
        ],
    }


@pytest.mark.parametrize("drop_at", [2, 3])
async def test_queue_is_delivered_in_order_and_once_per_answer_across_a_dropped_link(
    tmp_path, drop_at
):
    seen: list[int] = []

    def answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action == "MeterValues":
            n = int(payload["meterValue"][0]["sampledValue"][0]["value"])
            seen.append(n)
            if n == drop_at and seen.count(n) == 1:
                return None  # the link drops before the answer
        return default_answer(action, payload)

    async with rig(tmp_path, answer) as r:
        for n in range(1, 6):
            r.service.db.enqueue("MeterValues", _meter_payload(n), None, None)
        await until(lambda: r.service.link_state == "offline" and len(seen) >= drop_at)
        assert seen == list(range(1, drop_at + 1))
        await r.timers.advance(1.0)
        await until(lambda: r.service.db.pending() == 0)
        # The unanswered one is sent again, first; nothing answered is ever sent twice.
        assert seen == [*range(1, drop_at + 1), *range(drop_at, 6)]
        answered = [
            int(p["meterValue"][0]["sampledValue"][0]["value"])
            for a, p in r.csms.answered
            if a == "MeterValues"
        ]
        assert answered == [1, 2, 3, 4, 5]


async def test_a_transaction_start_and_stop_reach_the_csms_with_the_assigned_id(tmp_path):
    async with rig(tmp_path, free_vend_id_tag="FREE") as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.service.connector_changed(1)
        await until(lambda: r.service.active_transaction(1) is not None)
        await until(lambda: r.service.active_transaction(1).transaction_id == 4242)
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        r.hardware.energy_wh = 1500.0
        r.hardware.cp_state = CpState.A
        r.service.connector_changed(1)  # unplugged offline: the stop is queued
        assert r.service.active_transaction(1) is None
        await r.timers.advance(1.0)
        await until(lambda: r.service.db.pending() == 0 and "StopTransaction" in r.csms.actions())
        stops = [p for a, p in r.csms.answered if a == "StopTransaction"]
        assert len(stops) == 1
        assert stops[0]["transactionId"] == 4242
        assert stops[0]["meterStop"] == 1500
        assert stops[0]["reason"] == "EVDisconnected"
        starts = [p for a, p in r.csms.answered if a == "StartTransaction"]
        assert [s["meterStart"] for s in starts] == [1000]


async def test_a_start_gate_consulted_by_the_adapter_holds_a_remote_start(tmp_path):
    class Gate:
        open = False

        def may_start(self, connector_id, auth):
            return self.open

    async with rig(tmp_path) as r:
        gate = Gate()
        r.service.core.connectors.add_gate(gate)
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.service.connector_changed(1)
        assert r.service.handlers.remote_start("TAG", 1, None) == "Accepted"
        assert r.service.active_transaction(1) is None  # the gate holds it
        gate.open = True
        r.service.connector_changed(1)
        await until(lambda: r.service.active_transaction(1) is not None)
        assert r.service.active_transaction(1).id_tag == "TAG"
