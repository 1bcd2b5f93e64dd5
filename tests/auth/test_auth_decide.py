"""The local authorization decision, pure: list before cache, online and offline rules, expiry,
and idTags compared case-insensitively."""

from datetime import UTC, datetime, timedelta

import pytest

from controller.auth import AuthCache, AuthStatus, IdTagInfo, Policy, Source, Verdict, decide
from controller.auth.model import same_group

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
OK = IdTagInfo(AuthStatus.ACCEPTED)
BLOCKED = IdTagInfo(AuthStatus.BLOCKED)
STALE = IdTagInfo(AuthStatus.ACCEPTED, NOW - timedelta(seconds=1))


def _d(listed, cached, online, **policy):
    return decide(listed, cached, online=online, policy=Policy(**policy), now=NOW)


def test_online_asks_the_central_system_unless_pre_authorized_locally():
    assert _d(None, None, True).verdict is Verdict.ASK
    assert _d(OK, None, True).verdict is Verdict.ASK  # LocalPreAuthorize off
    d = _d(OK, None, True, local_pre_authorize=True)
    assert (d.verdict, d.source) == (Verdict.ACCEPT, Source.LOCAL_LIST)
    d = _d(None, OK, True, local_pre_authorize=True)
    assert (d.verdict, d.source) == (Verdict.ACCEPT, Source.CACHE)
    # an invalid cache entry is checked again with the central system; a list entry is final
    assert _d(None, BLOCKED, True, local_pre_authorize=True).verdict is Verdict.ASK
    assert _d(BLOCKED, None, True, local_pre_authorize=True).verdict is Verdict.REFUSE


def test_the_list_beats_the_cache_and_a_disabled_source_is_ignored():
    d = _d(BLOCKED, OK, False)
    assert (d.verdict, d.source) == (Verdict.REFUSE, Source.LOCAL_LIST)
    d = _d(BLOCKED, OK, False, list_enabled=False)
    assert (d.verdict, d.source) == (Verdict.ACCEPT, Source.CACHE)
    assert _d(None, OK, False, cache_enabled=False).verdict is Verdict.REFUSE


def test_offline_rules():
    assert _d(OK, None, False).verdict is Verdict.ACCEPT
    assert _d(OK, None, False, local_authorize_offline=False).verdict is Verdict.REFUSE
    assert _d(None, None, False).verdict is Verdict.REFUSE
    d = _d(None, None, False, allow_offline_unknown=True)
    assert (d.verdict, d.source) == (Verdict.ACCEPT, Source.OFFLINE_UNKNOWN)
    # known but not valid: refused even when unknown tags would be let in
    assert _d(BLOCKED, None, False, allow_offline_unknown=True).verdict is Verdict.REFUSE
    d = _d(None, STALE, False, allow_offline_unknown=True)
    assert d.verdict is Verdict.REFUSE and d.info is not None
    assert d.info.status is AuthStatus.EXPIRED


@pytest.mark.parametrize("status", [s for s in AuthStatus if s is not AuthStatus.ACCEPTED])
def test_only_accepted_and_unexpired_is_valid(status):
    assert not IdTagInfo(status).valid_at(NOW)
    assert IdTagInfo(AuthStatus.ACCEPTED, NOW + timedelta(seconds=1)).valid_at(NOW)
    assert not STALE.valid_at(NOW)


def test_groups_compare_parent_tags_case_insensitively():
    a = IdTagInfo(AuthStatus.ACCEPTED, None, "Fleet-7")
    b = IdTagInfo(AuthStatus.ACCEPTED, None, "FLEET-7")
    assert same_group(a, b)
    assert not same_group(a, OK) and not same_group(OK, OK)


def test_cache_reads_case_insensitively_expires_and_evicts_invalid_then_oldest():
    cache = AuthCache(3)
    cache.put("aa11", OK, NOW)
    assert cache.get("AA11", NOW) == OK
    cache.put("bb22", BLOCKED, NOW)
    cache.put("cc33", IdTagInfo(AuthStatus.ACCEPTED, NOW + timedelta(hours=1)), NOW)
    later = NOW + timedelta(hours=2)
    info = cache.get("cc33", later)
    assert info is not None and info.status is AuthStatus.EXPIRED
    _, evicted = cache.put("dd44", OK, NOW)
    assert evicted == ["bb22"]  # the non-valid entry goes first
    _, evicted = cache.put("ee55", OK, NOW)
    assert evicted == ["aa11"]  # then the valid one updated longest ago
    _, evicted = cache.put("DD44", BLOCKED, NOW)  # an update makes no room
    assert evicted == [] and len(cache) == 3
    cache.clear()
    assert cache.get("ee55", NOW) is None
