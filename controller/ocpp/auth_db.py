"""The local authorization list, the authorization cache and the reservations, in the OCPP
store's SQLite file (`OcppDb`), so they survive a restart, a reset and a power cut.

Three tables of their own, created by a numbered migration recorded in the `config` table
(`_auth.schema`); the list's version lives there too (`_auth.list_version`). A SendLocalList
is one commit, version and rows together: a power cut leaves the old list or the new one.
A row that cannot be read (another version, a damaged file) is skipped with an error logged,
never a charger that cannot start.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from controller.auth.cache import CacheEntry
from controller.auth.local_list import ListContent, ListOutcome
from controller.auth.model import AuthStatus, IdTagInfo
from controller.auth.reservations import Reservation
from controller.ocpp.outbox import OcppDb

log = logging.getLogger(__name__)

SCHEMA_KEY = "_auth.schema"
VERSION_KEY = "_auth.list_version"

_MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS auth_list (tag_key TEXT PRIMARY KEY, id_tag TEXT NOT NULL,"
        " status TEXT NOT NULL, expiry TEXT, parent TEXT)",
        "CREATE TABLE IF NOT EXISTS auth_cache (tag_key TEXT PRIMARY KEY, id_tag TEXT NOT NULL,"
        " status TEXT NOT NULL, expiry TEXT, parent TEXT, seq INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS reservations (reservation_id INTEGER PRIMARY KEY,"
        " connector_id INTEGER NOT NULL, id_tag TEXT NOT NULL, parent TEXT, expiry TEXT NOT NULL)",
    ],
]

Statement = tuple[str, tuple[Any, ...]]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _info(status: str, expiry: str | None, parent: str | None) -> IdTagInfo:
    return IdTagInfo(
        AuthStatus(status), None if expiry is None else datetime.fromisoformat(expiry), parent
    )


def _number(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0


def _config(key: str, value: str) -> Statement:
    return ("INSERT OR REPLACE INTO config VALUES (?, ?)", (key, value))


class AuthDb:
    def __init__(self, db: OcppDb) -> None:
        self._db = db
        stored = db.config_items()
        done = _number(stored.get(SCHEMA_KEY))  # a garbled mark: the migrations are idempotent
        for n, migration in enumerate(_MIGRATIONS[done:], start=done + 1):
            db.commit([*((sql, ()) for sql in migration), _config(SCHEMA_KEY, str(n))])
        self._version = _number(stored.get(VERSION_KEY))

    # --- the local list -----------------------------------------------------------------

    @property
    def list_version(self) -> int:
        return self._version

    def list_content(self) -> ListContent:
        content: ListContent = {}
        for key, tag, status, expiry, parent in self._db.query(
            "SELECT tag_key, id_tag, status, expiry, parent FROM auth_list"
        ):
            try:
                content[str(key)] = (str(tag), _info(status, expiry, parent))
            except (TypeError, ValueError) as exc:
                log.error("local list entry %r cannot be read (%s): skipped", tag, exc)
        return content

    def save_list(self, outcome: ListOutcome) -> None:
        statements: list[Statement] = []
        if outcome.replace_all:
            statements.append(("DELETE FROM auth_list", ()))
            keys: tuple[str, ...] = tuple(outcome.content)
        else:
            keys = outcome.upserts
            statements += [
                ("DELETE FROM auth_list WHERE tag_key = ?", (k,)) for k in outcome.deletes
            ]
        for k in keys:
            tag, info = outcome.content[k]
            statements.append(
                (
                    "INSERT OR REPLACE INTO auth_list VALUES (?, ?, ?, ?, ?)",
                    (k, tag, info.status.value, _iso(info.expiry), info.parent_id_tag),
                )
            )
        statements.append(_config(VERSION_KEY, str(outcome.version)))
        self._db.commit(statements)
        self._version = outcome.version

    # --- the cache ----------------------------------------------------------------------

    def cache_entries(self) -> list[CacheEntry]:
        out = []
        for tag, status, expiry, parent, seq in self._db.query(
            "SELECT id_tag, status, expiry, parent, seq FROM auth_cache"
        ):
            try:
                out.append(CacheEntry(str(tag), _info(status, expiry, parent), int(seq)))
            except (TypeError, ValueError) as exc:
                log.error("cache entry %r cannot be read (%s): skipped", tag, exc)
        return out

    def cache_put(self, key: str, entry: CacheEntry, evicted: list[str]) -> None:
        info = entry.info
        self._db.commit(
            [
                *(("DELETE FROM auth_cache WHERE tag_key = ?", (k,)) for k in evicted),
                (
                    "INSERT OR REPLACE INTO auth_cache VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        entry.id_tag,
                        info.status.value,
                        _iso(info.expiry),
                        info.parent_id_tag,
                        entry.seq,
                    ),
                ),
            ]
        )

    def cache_remove(self, key: str) -> None:
        self._db.commit([("DELETE FROM auth_cache WHERE tag_key = ?", (key,))])

    def cache_clear(self) -> None:
        self._db.commit([("DELETE FROM auth_cache", ())])

    # --- reservations -------------------------------------------------------------------

    def reservations(self) -> list[Reservation]:
        out = []
        for rid, cid, tag, parent, expiry in self._db.query(
            "SELECT reservation_id, connector_id, id_tag, parent, expiry FROM reservations"
        ):
            try:
                at = datetime.fromisoformat(expiry)
                out.append(Reservation(int(rid), int(cid), str(tag), parent, at))
            except (TypeError, ValueError) as exc:
                log.error("reservation %r cannot be read (%s): skipped", rid, exc)
        return out

    def reservation_put(self, r: Reservation) -> None:
        self._db.commit(
            [
                (
                    "INSERT OR REPLACE INTO reservations VALUES (?, ?, ?, ?, ?)",
                    (r.reservation_id, r.connector_id, r.id_tag, r.parent_id_tag, _iso(r.expiry)),
                )
            ]
        )

    def reservation_delete(self, reservation_id: int) -> None:
        self._db.commit([("DELETE FROM reservations WHERE reservation_id = ?", (reservation_id,))])
