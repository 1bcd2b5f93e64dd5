"""2.0.1's words and variables for the authorization both adapters share
(`controller.auth_store`: the same local list, cache and decision as 1.6, and their I/O).

The list, the cache and the list's version live in the 2.0.1 queue's own SQLite file
(`ocpp201.sqlite`), in the tables `AuthDb` keeps for 1.6 in its file: the two adapters never
share a list, and a 1.6 station's list is never read as 2.0.1's.

A 2.0.1 idToken is a pair (idToken, type), case-insensitive; it is one tag for the shared
machinery ("type:idToken"), and its groupIdToken the tag's parent (GroupId, C09). The
policy is AuthCtrlr's (LocalPreAuthorize, LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled),
AuthCacheCtrlr's (Enabled; an entry lives cacheExpiryDateTime, else LifeTime seconds) and
LocalAuthListCtrlr's (Enabled). 2.0.1 statuses that 1.6 lacks (NoCredit, Unknown, ...) are
kept as Invalid: none of them lets a car charge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ocpp.v201 import call

from controller.auth import AuthStatus, Decision, IdTagInfo, Policy, UpdateStatus
from controller.auth.model import LOCAL_LIST_MAX
from controller.auth_store import AuthStore
from controller.ocpp201 import auth_variables as av
from controller.ocpp201 import variables as v
from controller.ocpp201.context import Context
from controller.timestamps import parse_time

log = logging.getLogger(__name__)

_STATUSES = {s.value: s for s in AuthStatus}


def token_tag(token: Mapping[str, Any]) -> str:
    """The shared machinery's tag of an IdTokenType (snake_case dict)."""
    return f"{token.get('type', '')}:{token.get('id_token', '')}"


def info_of(d: Mapping[str, Any], now: datetime, lifetime_s: int) -> IdTagInfo:
    """An IdTokenInfoType as the library hands it over; the expiry is cacheExpiryDateTime,
    else `lifetime_s` from now (0: none)."""
    expiry = parse_time(d.get("cache_expiry_date_time"))
    if expiry is None and lifetime_s > 0:
        expiry = now + timedelta(seconds=lifetime_s)
    group = d.get("group_id_token")
    return IdTagInfo(
        _STATUSES.get(str(d.get("status")), AuthStatus.INVALID),
        expiry,
        None if not group else token_tag(group),
    )


class Auth201(AuthStore):
    TAG_WORD = "idToken"

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        super().__init__(ctx.db, ctx.now, log)

    def policy(self) -> Policy:
        var = self._ctx.variables
        return Policy(
            local_pre_authorize=var.get_bool(av.LOCAL_PRE_AUTHORIZE),
            local_authorize_offline=var.get_bool(av.LOCAL_AUTHORIZE_OFFLINE),
            allow_offline_unknown=var.get_bool(v.OFFLINE_TX_FOR_UNKNOWN_ID),
            cache_enabled=var.get_bool(av.AUTH_CACHE_ENABLED),
            list_enabled=var.get_bool(av.LOCAL_LIST_ENABLED),
        )

    def group_of(self, tag: str) -> str | None:
        """The tag's groupIdToken as the list or the cache knows it."""
        found = self.local(tag)
        return None if found is None else found.parent_id_tag

    async def authorize(self, token: dict[str, str]) -> Decision:
        """The list and the cache first (as the policy says), else Authorize (C01); a failed
        Authorize on a live link falls back to the offline rules."""
        tag, request = token_tag(token), call.Authorize(id_token=token)
        return await self._decide(
            tag, self._ctx.caller(), request, lambda r: self.learn(tag, r.id_token_info)
        )

    def learn(self, tag: str, id_token_info: Mapping[str, Any] | None) -> IdTagInfo:
        """The CSMS's word on a token (Authorize, TransactionEvent), kept in the cache when
        AuthCacheCtrlr.Enabled and the list does not have it (C10)."""
        c = self._ctx
        now = c.now()
        info = info_of(
            id_token_info or {"status": "Accepted"},
            now,
            c.variables.get_int(av.AUTH_CACHE_LIFETIME),
        )
        self._keep(tag, info, now, cache_enabled=c.variables.get_bool(av.AUTH_CACHE_ENABLED))
        return info

    def clear_cache(self) -> bool:
        """ClearCache (C11): Rejected when the cache is switched off (C11.FR.04)."""
        if not self._ctx.variables.get_bool(av.AUTH_CACHE_ENABLED):
            return False
        self._empty_cache()
        return True

    # --- the local list (D01, D02) ------------------------------------------------------

    def list_version(self) -> int:
        """GetLocalListVersion: 0 when no list is installed or the list is switched off."""
        if not self._ctx.variables.get_bool(av.LOCAL_LIST_ENABLED):
            return 0
        return self.db.list_version

    def send_local_list(
        self, version: int, kind: str, entries: Sequence[Mapping[str, Any]]
    ) -> tuple[str, str]:
        """(status, why); 2.0.1 has no NotSupported: a switched-off list answers Failed."""
        c = self._ctx
        now, lifetime = c.now(), 0  # the list's entries expire only by their own date
        outcome = self._install(
            kind,
            version,
            [
                (
                    token_tag(e["id_token"]),
                    info_of(e["id_token_info"], now, lifetime) if e.get("id_token_info") else None,
                )
                for e in entries
            ],
            enabled=c.variables.get_bool(av.LOCAL_LIST_ENABLED),
            max_list=LOCAL_LIST_MAX,
            max_send=c.variables.get_int(av.LOCAL_LIST_ITEMS),
        )
        status = outcome.status
        if status is not UpdateStatus.ACCEPTED:
            word = "Failed" if status is UpdateStatus.NOT_SUPPORTED else status.value
            return word, outcome.reason
        return "Accepted", ""
