"""The pilot state machine's settings as the configuration gives them: every `[pilot]` key
by name (the `[pilot]` section mirrors `hw.pilot.PilotConfig` field for field), and the phase
relay's timings."""

from __future__ import annotations

import attrs

from controller.config import ConnectorSection, Settings
from hw.iec61851 import CpBands
from hw.phase_switch import PhaseSwitchConfig
from hw.pilot import PilotConfig

FUSE_DECREASE_INTERVAL_S = 1.0


def phase_switch_config(connector: ConnectorSection) -> PhaseSwitchConfig | None:
    ps = connector.phase_switch
    if ps is None:
        return None
    return PhaseSwitchConfig(
        wait_s=ps.wait_s, min_interval_s=ps.min_interval_s, confirm_s=ps.confirm_s
    )


def pilot_config(settings: Settings, connector: ConnectorSection) -> PilotConfig:
    """Every `[pilot]` key by name: the section mirrors `PilotConfig` field for field. A key
    left unset takes the state machine's default, except where noted."""
    p = settings.pilot
    values = {k: v for k, v in attrs.asdict(p, recurse=False).items() if v is not None}
    values.pop("bands")
    guarded = settings.station.grid_meter.type != "none"
    if guarded and p.decrease_min_interval_s is None:
        # A decrease for the main fuse may not wait out the 5 s spacing (docs/energy.md).
        values["decrease_min_interval_s"] = FUSE_DECREASE_INTERVAL_S
    return PilotConfig(
        **values, bands=CpBands(**attrs.asdict(p.bands)), max_current_a=connector.max_current_a
    )
