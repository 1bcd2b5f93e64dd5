"""OCPP 1.6's words for the authorization both adapters share (`controller.auth_store`: the
local list, the cache, the decision and its fallback to the offline rules): the configuration
keys that make the policy, Authorize.req, the idTagInfo, and the answers 1.6 gives.

Every idTagInfo the central system sends (Authorize.conf, StartTransaction.conf,
StopTransaction.conf) goes through `learn`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ocpp.v16 import call

from controller.auth import AuthStatus, Decision, IdTagInfo, Policy, UpdateStatus
from controller.auth_store import AuthStore
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


class LocalAuth(AuthStore):
    def __init__(self, core: Core) -> None:
        self._core = core
        super().__init__(core.db, core.now, log)

    def policy(self) -> Policy:
        k = self._core.keys
        return Policy(
            local_pre_authorize=k.get_bool("LocalPreAuthorize"),
            local_authorize_offline=k.get_bool("LocalAuthorizeOffline"),
            allow_offline_unknown=k.get_bool("AllowOfflineTxForUnknownId"),
            cache_enabled=k.get_bool("AuthorizationCacheEnabled"),
            list_enabled=k.get_bool("LocalAuthListEnabled"),
        )

    async def authorize(self, id_tag: str) -> Decision:
        request = call.Authorize(id_tag=id_tag)
        return await self._decide(
            id_tag, self._core.caller(), request, lambda r: self.learn(id_tag, r.id_tag_info)
        )

    def learn(self, id_tag: str, id_tag_info: Mapping[str, Any] | None) -> IdTagInfo:
        """The central system's word on a tag, kept in the cache (unless the list has it)."""
        info = info_of(id_tag_info or {"status": "Accepted"})
        c = self._core
        self._keep(
            id_tag, info, c.now(), cache_enabled=c.keys.get_bool("AuthorizationCacheEnabled")
        )
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
        self._empty_cache()

    # --- the local list -----------------------------------------------------------------

    def list_version(self) -> int:
        """GetLocalListVersion: -1 when the list is switched off."""
        if not self._core.keys.get_bool("LocalAuthListEnabled"):
            return -1
        return self.db.list_version

    def send_local_list(
        self, version: int, kind: str, entries: Sequence[Mapping[str, Any]]
    ) -> UpdateStatus:
        keys = self._core.keys
        outcome = self._install(
            kind,
            version,
            [
                (str(e["id_tag"]), info_of(e["id_tag_info"]) if e.get("id_tag_info") else None)
                for e in entries
            ],
            enabled=keys.get_bool("LocalAuthListEnabled"),
            max_list=keys.get_int("LocalAuthListMaxLength"),
            max_send=keys.get_int("SendLocalListMaxLength"),
        )
        return outcome.status
