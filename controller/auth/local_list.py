"""The local authorization list's update rules (OCPP 1.6 §5.15, §6.41, errata 3.52). Pure.

A Full update replaces the list (every entry needs its idTagInfo; an empty one clears it); a
Differential one adds or updates the entries with idTagInfo and removes those without, and
only with a version above the current one. Whatever breaks a rule or a size limit changes
nothing: an update is applied whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from controller.auth.model import IdTagInfo, tag_key

# tag_key -> (the idTag as sent, its information)
ListContent = dict[str, tuple[str, IdTagInfo]]


class UpdateKind(StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


class UpdateStatus(StrEnum):
    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"


@dataclass(frozen=True, slots=True)
class ListUpdate:
    kind: UpdateKind
    version: int
    entries: Sequence[tuple[str, IdTagInfo | None]]


@dataclass(frozen=True, slots=True)
class ListOutcome:
    status: UpdateStatus
    reason: str = ""
    version: int = 0
    content: ListContent = field(default_factory=dict)
    # What to write: every row anew (Full), or these keys set and these removed.
    replace_all: bool = False
    upserts: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()


def apply_update(
    version: int,
    current: Mapping[str, tuple[str, IdTagInfo]],
    update: ListUpdate,
    *,
    enabled: bool,
    max_list: int,
    max_send: int,
) -> ListOutcome:
    if not enabled:
        return ListOutcome(UpdateStatus.NOT_SUPPORTED, "LocalAuthListEnabled is false")
    if len(update.entries) > max_send:
        return ListOutcome(
            UpdateStatus.FAILED, f"{len(update.entries)} entries, SendLocalListMaxLength {max_send}"
        )
    keys = [tag_key(tag) for tag, _ in update.entries]
    if len(set(keys)) != len(keys):
        return ListOutcome(UpdateStatus.FAILED, "an idTag appears twice")
    if update.version < 0:
        return ListOutcome(UpdateStatus.FAILED, f"listVersion {update.version}")
    if update.kind is UpdateKind.FULL:
        if any(info is None for _, info in update.entries):
            return ListOutcome(UpdateStatus.FAILED, "a Full update needs every idTagInfo")
        content: ListContent = {
            k: (tag, info) for k, (tag, info) in zip(keys, update.entries, strict=True) if info
        }
        if len(content) > max_list:
            return ListOutcome(
                UpdateStatus.FAILED, f"{len(content)} entries, LocalAuthListMaxLength {max_list}"
            )
        return ListOutcome(
            UpdateStatus.ACCEPTED, version=update.version, content=content, replace_all=True
        )
    if update.version <= version:
        return ListOutcome(
            UpdateStatus.VERSION_MISMATCH, f"listVersion {update.version} is not above {version}"
        )
    content = dict(current)
    upserts: list[str] = []
    deletes: list[str] = []
    for k, (tag, info) in zip(keys, update.entries, strict=True):
        if info is None:
            if content.pop(k, None) is not None:
                deletes.append(k)
        else:
            content[k] = (tag, info)
            upserts.append(k)
    if len(content) > max_list:
        return ListOutcome(
            UpdateStatus.FAILED, f"{len(content)} entries, LocalAuthListMaxLength {max_list}"
        )
    return ListOutcome(
        UpdateStatus.ACCEPTED,
        version=update.version,
        content=content,
        upserts=tuple(upserts),
        deletes=tuple(deletes),
    )
