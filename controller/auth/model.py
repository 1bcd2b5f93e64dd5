"""What a central system says of an idTag, in plain types.

OCPP 1.6's idTag is a CiString20: two tags that differ only in letter case are the same tag,
so every lookup goes through `tag_key`, while the tag as presented is kept for messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Sizes the Pi's SQLite file handles without effort, for both OCPP versions; a CSMS splits a
# longer list (it reads the per-message maximum) into one Full and Differential updates.
LOCAL_LIST_MAX = 1000
SEND_LIST_MAX = 100
CACHE_MAX = 500


class AuthStatus(StrEnum):
    """OCPP 1.6 AuthorizationStatus; the values are the protocol's words (2.0.1 has these too)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


def tag_key(id_tag: str) -> str:
    """The comparison key of an idTag (CiString: case-insensitive)."""
    return id_tag.casefold()


def same_tag(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and tag_key(a) == tag_key(b)


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    status: AuthStatus
    expiry: datetime | None = None
    parent_id_tag: str | None = None

    def valid_at(self, now: datetime) -> bool:
        """Accepted and not past its expiryDate: a tag that may start a transaction now."""
        return self.status is AuthStatus.ACCEPTED and (self.expiry is None or now < self.expiry)

    def effective(self, now: datetime) -> IdTagInfo:
        """As it stands at `now`: an Accepted entry past its expiryDate counts as Expired."""
        if self.status is AuthStatus.ACCEPTED and self.expiry is not None and now >= self.expiry:
            return IdTagInfo(AuthStatus.EXPIRED, self.expiry, self.parent_id_tag)
        return self


def same_group(a: IdTagInfo | None, b: IdTagInfo | None) -> bool:
    """Two tags with the same parentIdTag belong to one group (a fleet's cards)."""
    return a is not None and b is not None and same_tag(a.parent_id_tag, b.parent_id_tag)
