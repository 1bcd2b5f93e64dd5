"""The authorization cache: the last idTagInfo the central system gave for each tag. Pure.

Every idTagInfo is kept, valid or not (a Blocked answer is worth remembering offline); an
entry past its expiryDate reads as Expired. When full, non-valid entries go first, then the
valid one updated longest ago. Tags on the local list never enter it (the list is the word).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from controller.auth.model import IdTagInfo, tag_key


@dataclass(frozen=True, slots=True)
class CacheEntry:
    id_tag: str
    info: IdTagInfo
    seq: int  # higher: updated later


class AuthCache:
    def __init__(self, max_entries: int, entries: Iterable[CacheEntry] = ()) -> None:
        self.max_entries = max_entries
        self._entries = {tag_key(e.id_tag): e for e in entries}
        self._seq = max((e.seq for e in self._entries.values()), default=0)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, id_tag: str, now: datetime) -> IdTagInfo | None:
        entry = self._entries.get(tag_key(id_tag))
        return None if entry is None else entry.info.effective(now)

    def put(self, id_tag: str, info: IdTagInfo, now: datetime) -> tuple[CacheEntry, list[str]]:
        """Store `info`; returns the new entry and the keys evicted to make room."""
        self._seq += 1
        key = tag_key(id_tag)
        entry = CacheEntry(id_tag, info, self._seq)
        evicted: list[str] = []
        if key not in self._entries:
            while self._entries and len(self._entries) >= self.max_entries:
                victim = min(
                    self._entries,
                    key=lambda k: (self._entries[k].info.valid_at(now), self._entries[k].seq),
                )
                del self._entries[victim]
                evicted.append(victim)
        self._entries[key] = entry
        return entry, evicted

    def remove(self, id_tag: str) -> bool:
        return self._entries.pop(tag_key(id_tag), None) is not None

    def clear(self) -> None:
        self._entries.clear()
