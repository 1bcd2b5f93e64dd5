"""2.0.1 authorization on the shared machinery, on an in-memory link and a fake clock: stop by
GroupId, the cache offline (and its LifeTime), the local list with LocalPreAuthorize (no
Authorize), AuthorizeRemoteStart, ClearCache switched off, and the list and the cache kept
in ocpp201.sqlite across a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from controller.auth import AuthStatus
from hw.base import CpState
from tests.ocpp.unit.ocpp_unit_rig import default_answer, settle, until
from tests.ocpp201.rig201 import booted, rig201

GROUPS = {"A": "FLEET", "B": "FLEET", "C": "OTHER"}


def by_token(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Authorize: Accepted, in the group GROUPS names; "BAD" is Invalid."""
    if action != "Authorize":
        return default_answer(action, payload)
    tag = payload["idToken"]["idToken"]
    if tag == "BAD":
        return {"idTokenInfo": {"status": "Invalid"}}
    info: dict[str, Any] = {"status": "Accepted"}
    if tag in GROUPS:
        info["groupIdToken"] = {"idToken": GROUPS[tag], "type": "Central"}
    return {"idTokenInfo": info}


def authorizes(r) -> list[str]:
    return [p["idToken"]["idToken"] for a, p, _ in r.csms.calls if a == "Authorize"]


async def _plugged(r) -> None:
    await booted(r)
    r.hardware.cp_state = CpState.B
    r.changed()


async def test_a_card_of_the_same_group_stops_the_transaction_another_group_does_not(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await _plugged(r)
        assert await r.service.present_id_tag(1, "A")
        await until(lambda: len(r.events()) == 1)
        assert not await r.service.present_id_tag(1, "C")  # another group
        assert not await r.service.present_id_tag(1, "BAD")
        assert r.service.active_transaction(1) is not None
        assert await r.service.present_id_tag(1, "B")  # the same group: C09
        await until(lambda: len(r.events()) == 2)
        assert r.events()[1]["transactionInfo"]["stoppedReason"] == "Local"
        assert authorizes(r) == ["A", "C", "BAD", "B"]


async def test_offline_a_cached_card_starts_and_an_unknown_one_does_not(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await _plugged(r)
        assert await r.service.present_id_tag(1, "A")  # online: Authorize, cached
        assert await r.service.present_id_tag(1, "A")  # stops it
        await until(lambda: len(r.events()) == 2)
        assert r.service.auth_status()["auth_cache_entries"] == 1
        r.opener.refuse = True
        r.opener.drop()
        await until(lambda: r.service.link_state != "booted")
        r.hardware.cp_state = CpState.A
        r.changed()
        r.hardware.cp_state = CpState.B
        r.changed()
        assert not await r.service.present_id_tag(1, "Z")  # unknown, offline
        assert await r.service.present_id_tag(1, "A")  # LocalAuthorizeOffline, from the cache
        assert r.service.active_transaction(1) is not None
        assert authorizes(r) == ["A"]


async def test_a_cache_entry_lives_lifetime_seconds(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        item = {
            "component": {"name": "AuthCacheCtrlr"},
            "variable": {"name": "LifeTime"},
            "attribute_value": "60",
        }
        assert r.service.handlers.set_variables([item])[0]["attribute_status"] == "Accepted"
        now = r.clock.now()
        assert (await r.service.auth.authorize({"id_token": "A", "type": "ISO14443"})).accepted
        cache, tag = r.service.auth.cache, "ISO14443:A"
        assert cache.get(tag, now + timedelta(seconds=59)).valid_at(now + timedelta(seconds=59))
        late = now + timedelta(seconds=60)
        assert cache.get(tag, late).status is AuthStatus.EXPIRED


async def test_a_listed_card_starts_without_authorize_with_local_pre_authorize(tmp_path):
    entries = [
        {
            "id_token": {"id_token": "L1", "type": "ISO14443"},
            "id_token_info": {"status": "Accepted"},
        },
        {
            "id_token": {"id_token": "L2", "type": "ISO14443"},
            "id_token_info": {"status": "Blocked"},
        },
    ]
    async with rig201(tmp_path, by_token) as r:
        await _plugged(r)
        h = r.service.handlers
        assert h.send_local_list(3, "Full", entries) == ("Accepted", None)
        status, info = h.send_local_list(3, "Differential", [])
        assert status == "VersionMismatch" and info is not None
        assert h.local_list_version() == 3
        pre = {
            "component": {"name": "AuthCtrlr"},
            "variable": {"name": "LocalPreAuthorize"},
            "attribute_value": "true",
        }
        assert h.set_variables([pre])[0]["attribute_status"] == "Accepted"
        assert not await r.service.present_id_tag(1, "L2")  # Blocked on the list: no round trip
        assert await r.service.present_id_tag(1, "l1")  # case-insensitive
        await until(lambda: len(r.events()) == 1)
        assert authorizes(r) == []
        got = h.get_variables(
            [{"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "Entries"}}]
        )
        assert got[0]["attribute_value"] == "2"
    async with rig201(tmp_path, by_token) as r:  # restarted: the list is kept
        await booted(r)
        assert r.service.handlers.local_list_version() == 3
        assert r.service.auth_status()["local_list_entries"] == 2


async def test_authorize_remote_start_asks_first_and_a_refused_token_starts_nothing(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await _plugged(r)
        h = r.service.handlers
        on = {
            "component": {"name": "AuthCtrlr"},
            "variable": {"name": "AuthorizeRemoteStart"},
            "attribute_value": "true",
        }
        assert h.set_variables([on])[0]["attribute_status"] == "Accepted"
        assert h.request_start({"id_token": "BAD", "type": "Central"}, 1, 1, None)[0] == "Accepted"
        await until(lambda: authorizes(r) == ["BAD"])
        await settle()
        assert r.service.active_transaction(1) is None
        assert h.request_start({"id_token": "A", "type": "Central"}, 2, 1, None)[0] == "Accepted"
        await until(lambda: len(r.events()) == 1)
        assert r.events()[0]["triggerReason"] == "RemoteStart"
        assert authorizes(r) == ["BAD", "A"]


async def test_clear_cache_is_rejected_when_the_cache_is_off(tmp_path):
    async with rig201(tmp_path, by_token) as r:
        await booted(r)
        await r.service.auth.authorize({"id_token": "A", "type": "ISO14443"})
        assert len(r.service.auth.cache) == 1
        off = {
            "component": {"name": "AuthCacheCtrlr"},
            "variable": {"name": "Enabled"},
            "attribute_value": "false",
        }
        assert r.service.handlers.clear_cache() == "Accepted"
        assert len(r.service.auth.cache) == 0
        r.service.handlers.set_variables([off])
        assert r.service.handlers.clear_cache() == "Rejected"


async def test_after_a_restart_a_card_of_the_starters_group_still_stops(tmp_path):
    """The group came only from the CSMS (no list, cache off): it is stored with the session."""
    off = {
        "component": {"name": "AuthCacheCtrlr"},
        "variable": {"name": "Enabled"},
        "attribute_value": "false",
    }
    async with rig201(tmp_path, by_token, resume_transaction_after_power_loss=True) as r:
        await _plugged(r)
        assert r.service.handlers.set_variables([off])[0]["attribute_status"] == "Accepted"
        assert await r.service.present_id_tag(1, "A")
        await until(lambda: len(r.events()) == 1)
    async with rig201(tmp_path, by_token, resume_transaction_after_power_loss=True) as r:
        await _plugged(r)
        assert r.service.active_transaction(1) is not None
        assert len(r.service.auth.cache) == 0
        assert not await r.service.present_id_tag(1, "C")  # another group
        assert await r.service.present_id_tag(1, "B")
        await until(lambda: any(e["eventType"] == "Ended" for e in r.events()))
        ended = [e for e in r.events() if e["eventType"] == "Ended"]
        assert ended[0]["transactionInfo"]["stoppedReason"] == "Local"
