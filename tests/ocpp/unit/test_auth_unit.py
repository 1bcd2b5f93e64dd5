"""Local authorization through the OCPP adapter, in memory on a fake clock: Authorize and the
stop by the same card or its group, the local list and the cache offline, LocalPreAuthorize,
DeAuthorized, AuthorizeRemoteTxRequests, ClearCache and ConnectionTimeOut both ways."""

from typing import Any

from ocpp_unit_rig import booted, default_answer, rig, settle, until

from controller.charger.binding import LimitSource
from controller.station import StopReason
from hw.base import CpState

GROUP = {"AA11": "FLEET", "BB22": "FLEET", "CC33": "OTHER"}


def group_answer(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    if action in ("Authorize", "StartTransaction"):
        out = default_answer(action, payload)
        assert out is not None
        parent = GROUP.get(payload["idTag"].upper())
        if parent:
            out["idTagInfo"]["parentIdTag"] = parent
        if payload["idTag"].upper() == "DEAD":
            out["idTagInfo"]["status"] = "Invalid"
        return out
    return default_answer(action, payload)


def _calls(r, action):
    return [p for a, p, _ in r.csms.calls if a == action]


def _statuses(r):
    return [p["status"] for p in _calls(r, "StatusNotification") if p["connectorId"] == 1]


def _plug(r, state=CpState.B):
    r.hardware.cp_state = state
    r.service.connector_changed(1)


def _routes(r):
    return r.service.handlers.auth_routes


async def _started(r):
    await until(lambda: r.service.active_transaction(1) is not None)
    await until(lambda: len(_calls(r, "StartTransaction")) >= 1 and r.service.db.pending() == 0)


async def test_a_card_starts_and_the_same_card_in_other_letters_stops(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        _plug(r)
        assert await r.service.present_id_tag(1, "aa11")
        await _started(r)
        assert _calls(r, "Authorize") == [{"idTag": "aa11"}]
        assert await r.service.present_id_tag(1, "AA11")
        await until(lambda: len(_calls(r, "StopTransaction")) == 1 and not r.service.db.pending())
        assert len(_calls(r, "Authorize")) == 1  # the same card needs no second Authorize
        stop = _calls(r, "StopTransaction")[0]
        assert stop["reason"] == "Local" and stop["idTag"] == "AA11"


async def test_a_card_of_the_same_group_stops_and_another_group_does_not(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        _plug(r)
        assert await r.service.present_id_tag(1, "AA11")
        await _started(r)
        assert not await r.service.present_id_tag(1, "CC33")
        assert not await r.service.present_id_tag(1, "ZZ99")  # no group at all
        assert r.service.active_transaction(1) is not None
        assert await r.service.present_id_tag(1, "BB22")
        await until(lambda: len(_calls(r, "StopTransaction")) == 1 and not r.service.db.pending())
        assert _calls(r, "StopTransaction")[0]["idTag"] == "BB22"


async def test_offline_the_local_list_and_the_cache_start_and_unknown_tags_do_not(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        answer = _routes(r).on_send_local_list(
            1,
            "Full",
            [
                {"id_tag": "LIST1", "id_tag_info": {"status": "Accepted"}},
                {"id_tag": "BLOCK", "id_tag_info": {"status": "Blocked"}},
            ],
        )
        assert answer.status == "Accepted"
        _plug(r)
        assert await r.service.present_id_tag(1, "CACHE1")  # online: Authorize, and cached
        await _started(r)
        assert await r.service.present_id_tag(1, "CACHE1")
        await until(lambda: r.service.db.pending() == 0 and r.service.active_transaction(1) is None)
        _plug(r, CpState.A)
        r.opener.refuse = True
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        sent = len(_calls(r, "Authorize"))
        _plug(r)
        assert not await r.service.present_id_tag(1, "UNKNOWN")
        assert not await r.service.present_id_tag(1, "block")
        assert await r.service.present_id_tag(1, "list1")
        await until(lambda: r.service.active_transaction(1) is not None)
        assert await r.service.present_id_tag(1, "LIST1")
        _plug(r, CpState.A)
        _plug(r)
        assert await r.service.present_id_tag(1, "cache1")
        await until(lambda: r.service.active_transaction(1) is not None)
        assert len(_calls(r, "Authorize")) == sent  # none while offline
        assert r.service.db.pending() >= 3  # Start, Stop, Start wait for the link
        r.opener.refuse = False
        await r.timers.advance(120)
        await until(lambda: r.service.db.pending() == 0)
        starts = [p["idTag"] for p in _calls(r, "StartTransaction")]
        assert starts == ["CACHE1", "list1", "cache1"]


async def test_local_pre_authorize_starts_without_an_authorize(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert r.service.handlers.change_configuration("LocalPreAuthorize", "true") == "Accepted"
        entries = [{"id_tag": "L1", "id_tag_info": {"status": "Accepted"}}]
        assert _routes(r).on_send_local_list(3, "Full", entries).status == "Accepted"
        _plug(r)
        assert await r.service.present_id_tag(1, "L1")
        await _started(r)
        assert _calls(r, "Authorize") == []


async def test_an_invalid_start_answer_deauthorizes_and_is_cached(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        assert r.service.handlers.change_configuration("LocalPreAuthorize", "true") == "Accepted"
        _routes(r).on_send_local_list(1, "Full", [])
        # a RemoteStart is not authorised first (AuthorizeRemoteTxRequests is false)
        _plug(r)
        assert r.service.handlers.remote_start("DEAD", 1, None) == "Accepted"
        await until(lambda: len(_calls(r, "StopTransaction")) == 1 and not r.service.db.pending())
        assert _calls(r, "StopTransaction")[0]["reason"] == "DeAuthorized"
        cached = r.service.auth.cache.get("dead", r.service.now())
        assert cached is not None and cached.status == "Invalid"
        _plug(r, CpState.A)
        _plug(r)
        # online, an entry that is not valid is checked again with the central system
        assert not await r.service.present_id_tag(1, "DEAD")
        assert _calls(r, "Authorize") == [{"idTag": "DEAD"}]
        # offline, the cached Invalid holds even where unknown tags are let in
        r.service.handlers.change_configuration("AllowOfflineTxForUnknownId", "true")
        r.opener.refuse = True
        r.opener.drop()
        await until(lambda: r.service.link_state == "offline")
        assert not await r.service.present_id_tag(1, "dead")
        assert _routes(r).on_clear_cache().status == "Accepted"
        assert r.service.auth.cache.get("dead", r.service.now()) is None
        assert await r.service.present_id_tag(1, "dead")  # now an unknown tag
        assert len(_calls(r, "Authorize")) == 1


async def test_authorize_remote_tx_requests_sends_authorize_before_the_start(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        r.service.handlers.change_configuration("AuthorizeRemoteTxRequests", "true")
        _plug(r)
        assert r.service.handlers.remote_start("DEAD", 1, None) == "Accepted"
        await until(lambda: len(_calls(r, "Authorize")) == 1)
        await settle()
        assert r.service.active_transaction(1) is None  # refused by the Authorize answer
        assert r.service.handlers.remote_start("AA11", 1, None) == "Accepted"
        await _started(r)
        actions = [a for a in r.csms.actions() if a in ("Authorize", "StartTransaction")]
        assert actions == ["Authorize", "Authorize", "StartTransaction"]


async def test_connection_timeout_tag_first_back_to_available_plug_first_finishing(tmp_path):
    async with rig(tmp_path) as r:
        await booted(r)
        assert await r.service.present_id_tag(1, "T1")
        await until(lambda: _statuses(r)[-1:] == ["Preparing"])
        await r.timers.advance(59)
        assert _statuses(r)[-1] == "Preparing"
        await r.timers.advance(2)
        await until(lambda: _statuses(r)[-1:] == ["Available"])
        _plug(r)
        await until(lambda: _statuses(r)[-1:] == ["Preparing"])
        await r.timers.advance(61)
        await until(lambda: _statuses(r)[-1:] == ["Finishing"])
        _plug(r, CpState.A)
        await until(lambda: _statuses(r)[-1:] == ["Available"])


async def test_a_remote_start_after_the_plug_first_timeout_still_starts(tmp_path):
    """The pilot tells a car from a bare cable: a car that waited past ConnectionTimeOut is
    still there, and a CSMS that answered a driver's app must not get a session that never
    begins. A session that ended (car still in) is different: it does not restart."""
    async with rig(tmp_path) as r:
        await booted(r)
        _plug(r)
        await r.timers.advance(61)
        await until(lambda: _statuses(r)[-1:] == ["Finishing"])
        assert r.service.handlers.remote_start("LATE", 1, None) == "Accepted"
        await _started(r)
        assert _calls(r, "StartTransaction")[-1]["idTag"] == "LATE"
        tx = r.service.active_transaction(1)
        assert tx is not None
        assert r.service.handlers.remote_stop(tx.transaction_id) == "Accepted"
        await until(lambda: _statuses(r)[-1:] == ["Finishing"])
        assert r.service.handlers.remote_start("AGAIN", 1, None) == "Accepted"
        await settle()
        assert r.service.active_transaction(1) is None
        assert len(_calls(r, "StartTransaction")) == 1


async def test_without_stop_on_invalid_id_a_refused_session_stays_open_without_energy(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        r.service.handlers.change_configuration("StopTransactionOnInvalidId", "false")
        _plug(r)
        assert r.service.handlers.remote_start("DEAD", 1, None) == "Accepted"
        await _started(r)
        await until(lambda: not r.service.charging_permitted(1))
        assert r.service.active_transaction(1) is not None
        assert _calls(r, "StopTransaction") == []
        assert "refused the idTag" in r.service.pause_reason(1)
        r.service.stop_transaction(1, StopReason.LOCAL)
        assert r.service.active_transaction(1) is None


async def test_a_stop_answer_updates_the_cache(tmp_path):
    def blocked_at_stop(action, payload):
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Blocked"}}
        return default_answer(action, payload)

    async with rig(tmp_path, answer=blocked_at_stop) as r:
        await booted(r)
        _plug(r)
        assert await r.service.present_id_tag(1, "S1")
        await _started(r)
        assert await r.service.present_id_tag(1, "S1")
        await until(lambda: len(r.csms.answered) and r.csms.answered[-1][0] == "StopTransaction")
        await until(lambda: r.service.auth.cache.get("S1", r.service.now()).status == "Blocked")


async def test_a_start_answer_that_contradicts_the_local_list_is_reported(tmp_path):
    def blocked_at_start(action, payload):
        out = default_answer(action, payload)
        if action == "StartTransaction":
            out["idTagInfo"]["status"] = "Blocked"
        return out

    async with rig(tmp_path, answer=blocked_at_start) as r:
        await booted(r)
        r.service.handlers.change_configuration("LocalPreAuthorize", "true")
        entries = [{"id_tag": "L1", "id_tag_info": {"status": "Accepted"}}]
        assert _routes(r).on_send_local_list(1, "Full", entries).status == "Accepted"
        _plug(r)
        assert await r.service.present_id_tag(1, "L1")
        await until(lambda: len(_calls(r, "StopTransaction")) == 1 and not r.service.db.pending())

        def conflicts():
            return [p for a, p in r.csms.answered if p.get("errorCode") == "LocalListConflict"]

        await until(lambda: bool(conflicts()))
        assert [(p["connectorId"], p["info"]) for p in conflicts()] == [
            (0, "local list differs for L1")
        ]
        assert r.service.auth.listed("L1").status == "Accepted"  # only SendLocalList changes it


async def test_max_energy_on_invalid_id_lets_a_refused_session_draw_that_much_then_pauses(tmp_path):
    async with rig(tmp_path, answer=group_answer) as r:
        await booted(r)
        h = r.service.handlers
        assert h.change_configuration("StopTransactionOnInvalidId", "false") == "Accepted"
        assert h.change_configuration("MaxEnergyOnInvalidId", "x") == "Rejected"
        assert h.change_configuration("MaxEnergyOnInvalidId", "50") == "Accepted"
        keys, _ = r.service.core.keys.listing(["MaxEnergyOnInvalidId"])
        assert keys == [{"key": "MaxEnergyOnInvalidId", "readonly": False, "value": "50"}]
        _plug(r)
        r.hardware.energy_wh = 2000.0
        assert h.remote_start("DEAD", 1, None) == "Accepted"
        await _started(r)
        assert r.service.active_transaction(1).transaction_id is not None  # refused at 2000 Wh
        assert r.service.charging_permitted(1) and r.service.held_back(1) is None
        r.hardware.energy_wh = 2049.0
        assert r.service.charging_permitted(1)
        r.hardware.energy_wh = 2050.0
        assert not r.service.charging_permitted(1)
        assert r.service.held_back(1) is LimitSource.INVALID_ID_ENERGY
        assert "energy limit for an invalid card reached" in r.service.pause_reason(1)
        r.hardware.energy_wh = None  # a reading lost later does not open it again
        assert not r.service.charging_permitted(1)
        assert r.service.active_transaction(1) is not None
        assert _calls(r, "StopTransaction") == []
        r.service.stop_transaction(1, StopReason.LOCAL)
        assert r.service.held_back(1) is None


async def test_after_a_restart_a_card_of_the_starters_group_still_stops(tmp_path):
    """The group came only from the CSMS (no list, cache off): it is stored with the session."""
    async with rig(tmp_path, answer=group_answer, resume_transaction_after_power_loss=True) as r:
        await booted(r)
        assert r.service.keys.change("AuthorizationCacheEnabled", "false") == "Accepted"
        _plug(r)
        assert await r.service.present_id_tag(1, "AA11")
        await _started(r)
    async with rig(tmp_path, answer=group_answer, resume_transaction_after_power_loss=True) as r:
        r.hardware.cp_state = CpState.B
        await booted(r)
        assert r.service.active_transaction(1) is not None
        assert not await r.service.present_id_tag(1, "CC33")
        assert await r.service.present_id_tag(1, "BB22")
        await until(lambda: len(_calls(r, "StopTransaction")) == 1 and not r.service.db.pending())
        stop = _calls(r, "StopTransaction")[0]
        assert stop["idTag"] == "BB22" and stop["reason"] == "Local"
