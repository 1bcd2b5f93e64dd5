"""The local list and the cache both OCPP adapters keep, and the decision around them, written
once: the versions decide, learn and install a list the same way, so a fix to one could not
miss the other.

Each adapter keeps them in its own SQLite file (`AuthDb`): the two never share a list. The
decision is `controller.auth.decide`'s; the I/O is here. Offline means no accepted session:
the decision does not wait for an Authorize to time out first. An Authorize that fails on a
live link (timeout, CALLERROR, the link dropping meanwhile) falls back to the offline rules.
What stays in each adapter is the protocol's: which keys or variables make the `Policy`, the
Authorize message and its answer's fields, the words of the log and of its answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import websockets
from ocpp.exceptions import OCPPError

from controller.auth import (
    AuthCache,
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
from controller.auth.local_list import ListOutcome
from controller.auth.model import CACHE_MAX
from controller.ocpp.auth_db import AuthDb
from controller.ocpp.outbox import OcppDb


class Caller(Protocol):
    """The live session an Authorize goes out on (either version's)."""

    async def call(self, payload: Any, suppress: bool = True) -> Any: ...


class AuthStore:
    """`TAG_WORD` is what the protocol calls a presented tag, in the log."""

    TAG_WORD = "idTag"

    def __init__(self, db: OcppDb, now: Callable[[], datetime], log: logging.Logger) -> None:
        self._now = now
        self._log = log
        self.db = AuthDb(db)
        self._list = self.db.list_content()
        self.cache = AuthCache(CACHE_MAX, self.db.cache_entries())

    def policy(self) -> Policy:
        raise NotImplementedError

    def listed(self, tag: str) -> IdTagInfo | None:
        entry = self._list.get(tag_key(tag))
        return None if entry is None else entry[1]

    def local(self, tag: str) -> IdTagInfo | None:
        """What the list or the cache says of a tag (its group, above all)."""
        now = self._now()
        found = known(self.listed(tag), self.cache.get(tag, now), self.policy(), now)
        return None if found is None else found[1]

    async def _decide(
        self, tag: str, caller: Caller | None, request: object, learn: Callable[[Any], IdTagInfo]
    ) -> Decision:
        """`request` is the Authorize to send on `caller` (None: offline); `learn` takes what
        the answer says of the tag."""
        now = self._now()
        listed, cached = self.listed(tag), self.cache.get(tag, now)
        policy = self.policy()
        decision = decide(listed, cached, online=caller is not None, policy=policy, now=now)
        if decision.verdict is Verdict.ASK and caller is not None:
            try:
                resp = await caller.call(request, suppress=False)
            except (OCPPError, TimeoutError, websockets.ConnectionClosed) as exc:
                self._log.warning("Authorize failed (%s); deciding offline", exc)
                decision = decide(listed, cached, online=False, policy=policy, now=self._now())
            else:
                info = learn(resp)
                ok = info.valid_at(self._now())
                decision = Decision(
                    Verdict.ACCEPT if ok else Verdict.REFUSE, Source.CENTRAL_SYSTEM, info
                )
        source = decision.source.value if decision.source else "no entry"
        self._log.info(f"{self.TAG_WORD} %s: %s (%s)", tag, decision.verdict.value, source)
        return decision

    def _keep(self, tag: str, info: IdTagInfo, now: datetime, *, cache_enabled: bool) -> None:
        """The central system's word on a tag, kept in the cache (unless the list has it)."""
        if cache_enabled and self.listed(tag) is None:
            entry, evicted = self.cache.put(tag, info, now)
            self.db.cache_put(tag_key(tag), entry, evicted)

    def _empty_cache(self) -> None:
        self.cache.clear()
        self.db.cache_clear()

    def list_size(self) -> int:
        return len(self._list)

    def _install(
        self,
        kind: str,
        version: int,
        entries: list[tuple[str, IdTagInfo | None]],
        *,
        enabled: bool,
        max_list: int,
        max_send: int,
    ) -> ListOutcome:
        """A SendLocalList: checked, then the list and its version in one commit; the cache
        forgets what the list now says."""
        update = ListUpdate(UpdateKind(kind), version, entries)
        outcome = apply_update(
            self.db.list_version,
            self._list,
            update,
            enabled=enabled,
            max_list=max_list,
            max_send=max_send,
        )
        if outcome.status is not UpdateStatus.ACCEPTED:
            self._log.warning("SendLocalList %s: %s", outcome.status.value, outcome.reason)
            return outcome
        self.db.save_list(outcome)
        self._list = outcome.content
        for key in outcome.content:
            if self.cache.remove(key):  # the list is the word on these tags now
                self.db.cache_remove(key)
        self._log.info("local list version %d: %d entries", outcome.version, len(outcome.content))
        return outcome
