"""Where cards reach the charger: the configured RFID readers and `chargectl tag`.

Each reader runs in its own loop: start (a missing reader is retried, never a service that
cannot start), poll, debounce to one event per presentation, format the idTag, hand it to the
OCPP side's `present_id_tag`. A reader that fails is logged and restarted; nothing here may
stop the charger. The authorization rules themselves (Authorize, cache, local list) belong to
the OCPP side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hw.base import TokenReader
from hw.clock import Clock
from hw.errors import DriverUnavailable
from hw.rfid.tag import ID_TAG_MAX_LEN, BadUid, Debouncer, IdTagStyle, id_tag_for

log = logging.getLogger("chargectl.rfid")

RESTART_S = 10.0


@dataclass(frozen=True, slots=True)
class ConnectorView:
    """What choosing a connector for a station-wide reader needs to know."""

    id: int
    plugged_in: bool
    tx_id_tag: str | None


def pick_connector(views: Sequence[ConnectorView], id_tag: str) -> int:
    """A card on the station's reader: the connector whose session it started (to stop it),
    else the first plugged-in connector without a session, else the first free one."""
    for v in views:
        if v.tx_id_tag is not None and v.tx_id_tag.casefold() == id_tag.casefold():
            return v.id
    free = [v for v in views if v.tx_id_tag is None]
    plugged = [v for v in free if v.plugged_in]
    return (plugged or free or list(views))[0].id


def check_id_tag(text: str) -> str:
    """A person's idTag: 1 to 20 printable ASCII characters; a hex UID is uppercased, as a
    reader would send it. Raises ValueError with the reason."""
    tag = text.strip()
    if not 1 <= len(tag) <= ID_TAG_MAX_LEN:
        raise ValueError(f"an idTag has 1 to {ID_TAG_MAX_LEN} characters, not {len(tag)}")
    if not all(33 <= ord(c) <= 126 for c in tag):
        raise ValueError("an idTag is printable ASCII without spaces (OCPP CiString20)")
    if len(tag) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in tag):
        tag = tag.upper()
    return tag


Present = Callable[[int, str], Awaitable[bool]]


class TagDesk:
    def __init__(
        self,
        readers: dict[int | None, TokenReader],
        styles: dict[int | None, IdTagStyle],
        present: Present,
        connectors: Callable[[], list[ConnectorView]],
        clock: Clock,
    ) -> None:
        self.readers = readers
        self._styles = styles
        self._present = present
        self._connectors = connectors
        self._clock = clock

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for where, reader in self.readers.items():
                tg.create_task(self._reader_loop(where, reader), name=f"rfid-{where}")

    async def close(self) -> None:
        for reader in self.readers.values():
            with contextlib.suppress(Exception):
                await reader.close()

    async def _reader_loop(self, where: int | None, reader: TokenReader) -> None:
        style = self._styles.get(where, IdTagStyle.HEX)
        label = "station" if where is None else f"connector {where}"
        while True:
            try:
                await reader.start()
                log.info("RFID reader (%s) ready", label)
                debounce = Debouncer(reader.repeat_hold_s)
                while True:
                    raw = await reader.read()
                    if raw is None or not debounce.offer(raw.uid, self._clock.monotonic()):
                        continue
                    try:
                        tag = id_tag_for(raw.uid, style)
                    except BadUid as exc:
                        log.warning("RFID reader (%s): card %s: %s", label, raw.uid.hex(), exc)
                        continue
                    await self.present(tag, where, raw.source)
                    # A tap while the CSMS was deciding (Authorize may take seconds) is the
                    # same presentation, not a second one that would stop what just started.
                    debounce.offer(raw.uid, self._clock.monotonic())
            except asyncio.CancelledError:
                raise
            except DriverUnavailable as exc:
                log.error("RFID reader (%s) unavailable: %s (retrying)", label, exc)
            except Exception:  # a reader must never stop the charger
                log.exception("RFID reader (%s) failed; restarting it", label)
            with contextlib.suppress(Exception):
                await reader.close()
            await asyncio.sleep(RESTART_S)

    async def present(self, id_tag: str, connector_id: int | None, source: str) -> dict[str, Any]:
        """Hand a tag to the OCPP side; the answer says where it went and whether it counted."""
        views = self._connectors()
        cid = pick_connector(views, id_tag) if connector_id is None else connector_id
        log.info("tag %s presented at connector %d (%s)", id_tag, cid, source)
        accepted = await self._present(cid, id_tag)
        log.info("tag %s at connector %d: %s", id_tag, cid, "accepted" if accepted else "refused")
        return {"ok": True, "id_tag": id_tag, "connector_id": cid, "accepted": accepted}

    async def handle_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """The control socket's `tag` request: {"request": "tag", "id_tag": ..., "connector_id"}."""
        raw_tag = request.get("id_tag")
        if not isinstance(raw_tag, str):
            return {"ok": False, "error": "id_tag missing"}
        try:
            tag = check_id_tag(raw_tag)
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        cid = request.get("connector_id")
        ids = [v.id for v in self._connectors()]
        if cid is not None and (
            not isinstance(cid, int) or isinstance(cid, bool) or cid not in ids
        ):
            return {
                "ok": False,
                "error": f"no connector {cid!r}: this charger has {', '.join(map(str, ids))}",
            }
        return await self.present(tag, cid, "console")
