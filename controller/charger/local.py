"""The limits set on the charger itself (the dashboard's cap and pause), kept across restarts.

A person who capped the charger at 10 A because the garage circuit is weak expects the cap to
survive a power cut, so it lives in the state directory, written atomically. It is one more
cap in the control loop's minimum: it can only lower what the car is offered, never raise it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LocalSetting:
    cap_a: float | None = None  # None = no local cap
    paused: bool = False


class LocalOverrides:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._by_connector: dict[int, LocalSetting] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self._path.read_text())
            self._by_connector = {
                int(cid): LocalSetting(
                    cap_a=None if v.get("cap_a") is None else float(v["cap_a"]),
                    paused=bool(v.get("paused", False)),
                )
                for cid, v in raw.items()
            }
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Unreadable: no cap is the rating, which is what the installer allowed anyway.
            log.error("%s unreadable (%s): local caps ignored", self._path, exc)

    def _save(self) -> None:
        data = {
            str(cid): {"cap_a": s.cap_a, "paused": s.paused}
            for cid, s in sorted(self._by_connector.items())
        }
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        with tmp.open("w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._path)

    def get(self, connector_id: int) -> LocalSetting:
        return self._by_connector.get(connector_id, LocalSetting())

    def cap_a(self, connector_id: int) -> float | None:
        """What the control loop takes into its minimum: 0 while paused here."""
        s = self.get(connector_id)
        return 0.0 if s.paused else s.cap_a

    def set_cap(self, connector_id: int, cap_a: float | None) -> None:
        s = self.get(connector_id)
        self._by_connector[connector_id] = LocalSetting(cap_a, s.paused)
        self._save()

    def set_paused(self, connector_id: int, paused: bool) -> None:
        s = self.get(connector_id)
        self._by_connector[connector_id] = LocalSetting(s.cap_a, paused)
        self._save()
