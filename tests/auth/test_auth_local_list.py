"""SendLocalList's rules, pure: Full and Differential, version rules, sizes, all or nothing."""

from controller.auth import IdTagInfo, ListUpdate, UpdateKind, UpdateStatus, apply_update
from controller.auth.model import AuthStatus

OK = IdTagInfo(AuthStatus.ACCEPTED)
BLOCKED = IdTagInfo(AuthStatus.BLOCKED)


def _apply(version, current, kind, new_version, entries, enabled=True, max_list=3, max_send=3):
    return apply_update(
        version,
        current,
        ListUpdate(kind, new_version, entries),
        enabled=enabled,
        max_list=max_list,
        max_send=max_send,
    )


def test_full_replaces_the_list_and_differential_adds_updates_and_removes():
    full = _apply(0, {}, UpdateKind.FULL, 1, [("aa", OK), ("BB", OK)])
    assert full.status is UpdateStatus.ACCEPTED and full.replace_all
    assert set(full.content) == {"aa", "bb"} and full.content["bb"][0] == "BB"
    diff = _apply(1, full.content, UpdateKind.DIFFERENTIAL, 2, [("bb", BLOCKED), ("AA", None)])
    assert diff.status is UpdateStatus.ACCEPTED and not diff.replace_all
    assert diff.content == {"bb": ("bb", BLOCKED)}
    assert (diff.upserts, diff.deletes, diff.version) == (("bb",), ("aa",), 2)


def test_version_rules():
    current = {"aa": ("aa", OK)}
    for version in (1, 2):
        out = _apply(2, current, UpdateKind.DIFFERENTIAL, version, [("cc", OK)])
        assert out.status is UpdateStatus.VERSION_MISMATCH
    # a Full update may set any version, 0 with no entries clears the list (as OCTT does)
    out = _apply(5, current, UpdateKind.FULL, 0, [])
    assert out.status is UpdateStatus.ACCEPTED and out.content == {} and out.version == 0
    assert _apply(0, {}, UpdateKind.FULL, -1, []).status is UpdateStatus.FAILED


def test_failures_change_nothing():
    current = {"aa": ("aa", OK)}
    # Full without idTagInfo, a tag twice (case-insensitively), too many in one request,
    # a list that would grow past its limit
    assert _apply(1, current, UpdateKind.FULL, 2, [("bb", None)]).status is UpdateStatus.FAILED
    dup = [("bb", OK), ("BB", OK)]
    assert _apply(1, current, UpdateKind.FULL, 2, dup).status is UpdateStatus.FAILED
    many = [(f"t{i}", OK) for i in range(4)]
    assert _apply(1, current, UpdateKind.FULL, 2, many).status is UpdateStatus.FAILED
    grow = [("bb", OK), ("cc", OK), ("dd", OK)]
    out = _apply(1, current, UpdateKind.DIFFERENTIAL, 2, grow)
    assert out.status is UpdateStatus.FAILED and out.content == {}
    disabled = _apply(1, current, UpdateKind.FULL, 2, [("bb", OK)], enabled=False)
    assert disabled.status is UpdateStatus.NOT_SUPPORTED
