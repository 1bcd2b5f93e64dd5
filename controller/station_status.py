"""The whole status document (`chargectl status --json`, the dashboard, /metrics, diagnostics)
assembled from the running service's parts.

It reads the protocol adapter through `AdapterView`, the few questions both OCPP versions
answer, so the document has the same fields whichever version runs. Fields are only ever
added, never renamed: scripts and the dashboard read them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from controller import __version__, hardware_checks
from controller.charger.local import LocalOverrides
from controller.charger.loop import ControlLoop
from controller.energy_status import fuse_status, grid_status, phase_status
from controller.smart_charging import ProfileStore
from controller.station.model import TransactionInfo
from controller.status_document import connector_document, iso, profiles_document
from hw.clock import Clock


class QueueView(Protocol):
    def pending(self) -> int: ...


class AdapterView(Protocol):
    """What the status document asks of the OCPP adapter (1.6 or 2.0.1)."""

    @property
    def link_state(self) -> str: ...

    @property
    def frames_received(self) -> int: ...

    @property
    def frames_rejected(self) -> int: ...

    @property
    def db(self) -> QueueView: ...

    def connector_status(self, connector_id: int) -> str: ...

    def pause_reason(self, connector_id: int) -> str | None: ...

    def active_transaction(self, connector_id: int) -> TransactionInfo | None: ...

    def auth_status(self, connector_id: int | None = None) -> dict[str, Any]: ...

    def link_activity(self) -> dict[str, Any]: ...


class StationStatus:
    def __init__(
        self,
        *,
        clock: Clock,
        loop: ControlLoop,
        overrides: LocalOverrides,
        drivers: Mapping[int, str],
        adapter: AdapterView,
        profiles: ProfileStore,
        state_dir: Path,
        csms_url: str,
        web_url: Callable[[], str | None],
    ) -> None:
        """`drivers`: each connector's driver name; `csms_url` is already masked."""
        self._clock = clock
        self._loop = loop
        self._overrides = overrides
        self._drivers = drivers
        self._adapter = adapter
        self._profiles = profiles
        self._state_dir = state_dir
        self._csms_url = csms_url
        self._web_url = web_url
        self._started_mono = time.monotonic()

    def _connector(self, cid: int) -> dict[str, Any]:
        u = self._loop.unit(cid)
        local = self._overrides.get(cid)
        a = self._adapter
        return {
            **connector_document(
                cid,
                u,
                driver=self._drivers[cid],
                ocpp_status=a.connector_status(cid),
                pause_reason=a.pause_reason(cid),
                tx=a.active_transaction(cid),
            ),
            **fuse_status(u.limit_source, u.fuse_limit),
            **phase_status(u),
            "local": {"cap_a": local.cap_a, "paused": local.paused},
            **a.auth_status(cid),
        }

    def document(self) -> dict[str, Any]:
        a, loop = self._adapter, self._loop
        return {
            "version": __version__,
            "pid": os.getpid(),
            "uptime_s": time.monotonic() - self._started_mono,
            "now": iso(self._clock.now()),
            "csms": {
                "url": self._csms_url,
                "state": a.link_state,
                "queued_messages": a.db.pending(),
                "frames_received": a.frames_received,
                "frames_rejected": a.frames_rejected,
                **a.link_activity(),
                **a.auth_status(),
            },
            "loop": {
                "tick_age_s": None
                if loop.last_tick_mono is None
                else round(self._clock.monotonic() - loop.last_tick_mono, 3)
            },
            "web": {"url": self._web_url()},
            "connectors": [self._connector(cid) for cid in sorted(self._drivers)],
            "grid": grid_status(loop.main_fuse, self._clock.monotonic()),
            "profiles": profiles_document(self._profiles.installed()),
            "fallback_limit_a": self._profiles.fallback_current_a
            if self._profiles.fallback_active
            else None,
            "hardware_checks": hardware_checks.load(self._state_dir),
        }
