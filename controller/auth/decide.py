"""Is a presented idTag accepted now, and on whose word: the local list, the cache, the central
system, or the offline rules. Pure.

The order is OCPP 1.6's (§3.5, errata 3.4/3.5/3.17): the local list beats the cache; online,
a local hit starts at once only with LocalPreAuthorize, anything else asks the central system;
offline (the link is down, not "an Authorize timed out"), a known tag starts only if its entry
is valid and LocalAuthorizeOffline is on, and an unknown one only with
AllowOfflineTxForUnknownId. A known tag whose entry is not valid is never let in offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from controller.auth.model import IdTagInfo


class Source(StrEnum):
    LOCAL_LIST = "local_list"
    CACHE = "cache"
    CENTRAL_SYSTEM = "central_system"
    OFFLINE_UNKNOWN = "offline_unknown"


class Verdict(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    ASK = "ask"  # send Authorize and take the central system's answer


@dataclass(frozen=True, slots=True)
class Policy:
    """The configuration keys that shape the decision."""

    local_pre_authorize: bool = False
    local_authorize_offline: bool = True
    allow_offline_unknown: bool = False
    cache_enabled: bool = True
    list_enabled: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    source: Source | None = None
    info: IdTagInfo | None = None

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT


def known(
    listed: IdTagInfo | None, cached: IdTagInfo | None, policy: Policy, now: datetime
) -> tuple[Source, IdTagInfo] | None:
    """What the charger itself knows of a tag: its list entry, else its cache entry."""
    if listed is not None and policy.list_enabled:
        return Source.LOCAL_LIST, listed.effective(now)
    if cached is not None and policy.cache_enabled:
        return Source.CACHE, cached.effective(now)
    return None


def decide(
    listed: IdTagInfo | None,
    cached: IdTagInfo | None,
    *,
    online: bool,
    policy: Policy,
    now: datetime,
) -> Decision:
    local = known(listed, cached, policy, now)
    if online:
        if local is not None and policy.local_pre_authorize:
            source, info = local
            if info.valid_at(now):
                return Decision(Verdict.ACCEPT, source, info)
            if source is Source.LOCAL_LIST:
                # The list is the central system's own word: no round trip to hear it again.
                return Decision(Verdict.REFUSE, source, info)
        return Decision(Verdict.ASK)
    if local is not None:
        source, info = local
        if policy.local_authorize_offline and info.valid_at(now):
            return Decision(Verdict.ACCEPT, source, info)
        return Decision(Verdict.REFUSE, source, info)
    if policy.allow_offline_unknown:
        return Decision(Verdict.ACCEPT, Source.OFFLINE_UNKNOWN)
    return Decision(Verdict.REFUSE)
