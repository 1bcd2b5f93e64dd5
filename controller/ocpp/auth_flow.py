"""OCPP 1.6 authorization of a presented idTag: the local list, the cache, Authorize.req and
the offline rules, decided by `controller.auth.decide`, with I/O only here.

Offline means no accepted session (`Core.caller()` is None): the decision does not wait for an
Authorize to time out first. An Authorize that fails on a live link (timeout, CALLERROR, the
link dropping meanwhile) falls back to the offline rules. Every idTagInfo the central system
sends (Authorize.conf, StartTransaction.conf, StopTransaction.conf) goes through `learn`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import websockets
from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from controller.auth import (
    AuthCache,
    AuthStatus,
    Decision,
    IdTagInfo,
    ListUpdate,
    Policy,
    Source,
    UpdateKind,
    UpdateStatus,
    Verdict,
    apply_update,
    decide,
    tag_key,
)
from controller.auth.decide import known
from controller.auth.model import CACHE_MAX
from controller.ocpp.auth_db import AuthDb
from controller.ocpp.core import Core
from controller.timestamps import parse_time

log = logging.getLogger(__name__)


def info_of(d: Mapping[str, Any]) -> IdTagInfo:
    """An idTagInfo as the `ocpp` library hands it over (snake_case keys, schema-checked)."""
    return IdTagInfo(
        AuthStatus(d.get("status", "Invalid")),
        parse_time(d.get("expiry_date")),
        d.get("parent_id_tag"),
    )


class LocalAuth:
    def __init__(self, core: Core) -> None:
        self._core = core
        self.db = AuthDb(core.db)
        self._list = self.db.list_content()
        self.cache = AuthCache(CACHE_MAX, self.db.cache_entries())

    def policy(self) -> Policy:
        k = self._core.keys
        return Policy(
            local_pre_authorize=k.get_bool("LocalPreAuthorize"),
            local_authorize_offline=k.get_bool("LocalAuthorizeOffline"),
            allow_offline_unknown=k.get_bool("AllowOfflineTxForUnknownId"),
            cache_enabled=k.get_bool("AuthorizationCacheEnabled"),
            list_enabled=k.get_bool("LocalAuthListEnabled"),
        )

    def listed(self, id_tag: str) -> IdTagInfo | None:
        entry = self._list.get(tag_key(id_tag))
        return None if entry is None else entry[1]

    def local(self, id_tag: str) -> IdTagInfo | None:
        """What the list or the cache says of a tag (its group, above all)."""
        now = self._core.now()
        found = known(self.listed(id_tag), self.cache.get(id_tag, now), self.policy(), now)
        return None if found is None else found[1]

    async def authorize(self, id_tag: str) -> Decision:
        c = self._core
        now = c.now()
        listed, cached = self.listed(id_tag), self.cache.get(id_tag, now)
        caller = c.caller()
        policy = self.policy()
        decision = decide(listed, cached, online=caller is not None, policy=policy, now=now)
        if decision.verdict is Verdict.ASK and caller is not None:
            try:
                resp = await caller.call(call.Authorize(id_tag=id_tag), suppress=False)
            except (OCPPError, TimeoutError, websockets.ConnectionClosed) as exc:
                log.warning("Authorize failed (%s); deciding offline", exc)
                decision = decide(listed, cached, online=False, policy=policy, now=c.now())
            else:
                info = self.learn(id_tag, resp.id_tag_info)
                ok = info.valid_at(c.now())
                decision = Decision(
                    Verdict.ACCEPT if ok else Verdict.REFUSE, Source.CENTRAL_SYSTEM, info
                )
        log.info(
            "idTag %s: %s (%s)",
            id_tag,
            decision.verdict.value,
            decision.source.value if decision.source else "no entry",
        )
        return decision

    def learn(self, id_tag: str, id_tag_info: Mapping[str, Any] | None) -> IdTagInfo:
        """The central system's word on a tag, kept in the cache (unless the list has it)."""
        info = info_of(id_tag_info or {"status": "Accepted"})
        c = self._core
        if c.keys.get_bool("AuthorizationCacheEnabled") and self.listed(id_tag) is None:
            entry, evicted = self.cache.put(id_tag, info, c.now())
            self.db.cache_put(tag_key(id_tag), entry, evicted)
        return info

    def contradicts(self, id_tag: str, info: IdTagInfo) -> bool:
        """The central system's answer disagrees with the local list (LocalListConflict)."""
        listed = self.listed(id_tag)
        now = self._core.now()
        return (
            listed is not None
            and self._core.keys.get_bool("LocalAuthListEnabled")
            and listed.valid_at(now) != info.valid_at(now)
        )

    def clear_cache(self) -> None:
        self.cache.clear()
        self.db.cache_clear()

    # --- the local list -----------------------------------------------------------------

    def list_version(self) -> int:
        """GetLocalListVersion: -1 when the list is switched off."""
        if not self._core.keys.get_bool("LocalAuthListEnabled"):
            return -1
        return self.db.list_version

    def list_size(self) -> int:
        return len(self._list)

    def send_local_list(
        self, version: int, kind: str, entries: Sequence[Mapping[str, Any]]
    ) -> UpdateStatus:
        keys = self._core.keys
        update = ListUpdate(
            UpdateKind(kind),
            version,
            [
                (str(e["id_tag"]), info_of(e["id_tag_info"]) if e.get("id_tag_info") else None)
                for e in entries
            ],
        )
        outcome = apply_update(
            self.db.list_version,
            self._list,
            update,
            enabled=keys.get_bool("LocalAuthListEnabled"),
            max_list=keys.get_int("LocalAuthListMaxLength"),
            max_send=keys.get_int("SendLocalListMaxLength"),
        )
        if outcome.status is not UpdateStatus.ACCEPTED:
            log.warning("SendLocalList %s: %s", outcome.status.value, outcome.reason)
            return outcome.status
        self.db.save_list(outcome)
        self._list = outcome.content
        for key in outcome.content:
            if self.cache.remove(key):  # the list is the word on these tags now
                self.db.cache_remove(key)
        log.info("local list version %d: %d entries", outcome.version, len(outcome.content))
        return outcome.status
