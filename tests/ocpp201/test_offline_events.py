"""TransactionEvents while the CSMS is away: queued in order, sent once each after the
reconnect with `offline: true`, seqNo without gaps; and a restart in the middle loses none
(real SQLite files, in-memory link, fake clock)."""

from __future__ import annotations

from rig201 import booted, rig201

from controller.ocpp201.queue import EventDb
from hw.base import CpState
from tests.ocpp.unit.ocpp_unit_rig import until

TOKEN = {"id_token": "CARD1", "type": "ISO14443"}


async def test_events_of_an_outage_are_replayed_in_order_once_and_marked_offline(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.changed()
        assert r.service.handlers.request_start(TOKEN, 42, 1, None) == ("Accepted", None)
        await until(lambda: len(r.events()) == 1)
        started = r.events()[0]
        assert started["eventType"] == "Started"
        assert started["transactionInfo"]["remoteStartId"] == 42
        assert "offline" not in started

        r.opener.refuse = True
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        r.hardware.charge()
        r.changed()  # Charging, while offline
        r.hardware.offered_a, r.hardware.limit_a = 0.0, 0.0
        r.changed()  # paused by a 0 A limit, while offline
        r.hardware.cp_state, r.hardware.contactor_closed = CpState.A, False
        r.changed()  # unplugged: the transaction ends, while offline
        assert r.service.db.pending() == 3
        assert r.service.active_transaction(1) is None

        r.opener.refuse = False
        await r.timers.advance(r.timers.sleeps[-1])
        await until(lambda: len(r.events()) == 4)
        await until(lambda: r.service.db.pending() == 0)
        events = r.events()
        assert [e["seqNo"] for e in events] == [0, 1, 2, 3]
        assert [e["eventType"] for e in events] == ["Started", "Updated", "Updated", "Ended"]
        assert [e.get("offline") for e in events] == [None, True, True, True]
        assert [e["triggerReason"] for e in events[1:]] == [
            "ChargingStateChanged",
            "ChargingRateChanged",
            "EVDeparted",
        ]
        assert events[3]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
        assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
        assert r.csms.actions().count("TransactionEvent") == 4  # each once
        assert r.csms.actions().count("BootNotification") == 1


async def test_seq_no_goes_on_across_a_restart_without_gaps(tmp_path):
    # The CSMS drops the link at every call: nothing is ever delivered, all stays queued.
    async with rig201(tmp_path, lambda action, payload: None) as r:
        r.hardware.cp_state = CpState.B
        r.service.handlers.request_start(TOKEN, 1, 1, None)
        r.hardware.charge()
        r.changed()
        assert r.service.db.pending() == 2
        tx = r.service.active_transaction(1)
        assert tx is not None
    # a new process on the same files: the transaction is cut (PowerLoss) and its Ended
    # takes the next number
    db = EventDb(tmp_path / "state" / "ocpp201.sqlite")
    try:
        assert db.next_seq_no(tx.tx_key) == 2
    finally:
        db.close()
    async with rig201(tmp_path) as r:
        await booted(r)
        await until(lambda: len(r.events()) == 3)
        events = r.events()
        assert [e["seqNo"] for e in events] == [0, 1, 2]
        assert events[2]["eventType"] == "Ended"
        assert events[2]["transactionInfo"]["stoppedReason"] == "PowerLoss"
        assert all(e["offline"] for e in events)
        await until(lambda: r.service.db.pending() == 0)
        assert r.service.db.next_seq_no(tx.tx_key) == 0  # forgotten once all were delivered
