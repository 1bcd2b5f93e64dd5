"""The profile store's file: what it holds at start, and writes that never stall the loop.

It holds the installed profiles and whether the fallback limit is in force, nothing about
transactions beyond the `transactionId` in a TxProfile's body: the station's transaction journal
(ocpp.sqlite) is the one owner of open transactions. An older file is brought to this layout
once, at open (`profile_file_upgrade`).

Every change is committed (rollback journal, synchronous=FULL) on a writer thread
(`durable_writer.DurableWriter`). A fact of the charger (a transaction began or ended, so its
TxProfiles go) is in memory at once and on disk soon; what the CSMS asks for comes into force
only once it is on disk, before the Accepted is sent. Without a running event loop (tools,
tests) the commit happens before the call returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

from controller.durable import Statement, open_checked
from controller.durable_writer import DurableWriter
from controller.smart_charging.convert import ProfileFormatError, parse_datetime, profile_from_ocpp
from controller.smart_charging.model import InstalledProfile
from controller.smart_charging.profile_file_upgrade import upgrade

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    profile_id   INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL,
    body         TEXT NOT NULL,
    installed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_FALLBACK = "fallback_since"


def fallback_statement(since: str | None) -> Statement:
    """Store when the fallback limit began (a damaged file), or that it ended (None)."""
    if since is None:
        return ("DELETE FROM meta WHERE key = ?", (_FALLBACK,))
    return ("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_FALLBACK, since))


class ProfileFile:
    def __init__(self, path: Path) -> None:
        self._db, self.damage = open_checked(path, _SCHEMA)
        try:
            upgrade(self._db, path.name)
        except BaseException:
            self._db.close()
            raise
        self._writer = DurableWriter(self._db, path.name)

    def load(self) -> tuple[str | None, dict[int, InstalledProfile]]:
        """The fallback's start (None: not in force) and the profiles. An unreadable row is
        logged and left out, never a reason not to start."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_FALLBACK,)).fetchone()
        fallback_since = None if row is None else str(row[0])
        profiles: dict[int, InstalledProfile] = {}
        for _pid, cid, body, at in self._db.execute(
            "SELECT profile_id, connector_id, body, installed_at FROM profiles"
        ):
            try:
                profile = profile_from_ocpp(json.loads(body))
                ip = InstalledProfile(cid, profile, parse_datetime(at, "installed_at"))
            except (ProfileFormatError, ValueError, TypeError) as exc:
                log.error("dropping an unreadable stored profile: %s", exc)
                continue
            profiles[profile.profile_id] = ip
        return fallback_since, profiles

    def write(self, statements: list[Statement]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._writer.commit_now(statements)
            return
        self._writer.submit(statements)

    def write_then(self, statements: list[Statement], apply: Callable[[], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._writer.commit_now(statements)
            apply()
            return
        self._writer.submit(statements, then=apply, loop=loop)

    def close(self) -> None:
        self._writer.close()
        self._db.close()
