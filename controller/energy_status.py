"""The main-fuse guard in `status --json` and on the dashboard: fields added, none renamed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from controller.charger.binding import LimitSource
from controller.charger.fuse_guard import PHASE_NAMES, FuseLimit
from controller.charger.main_fuse import MainFuse
from controller.charger.phase_choice import PhaseChooser
from controller.config import Settings

if TYPE_CHECKING:
    from controller.charger.loop import ConnectorUnit


def fuse_status(source: LimitSource | None, fuse: FuseLimit | None) -> dict[str, Any]:
    """`limit_explanation` is text for people when the main fuse binds; `main_fuse` the data."""
    return {
        "limit_explanation": fuse.text()
        if fuse is not None and source is LimitSource.MAIN_FUSE
        else None,
        "main_fuse": None
        if fuse is None
        else {
            "cap_a": fuse.cap_a,
            "kind": fuse.kind.value,
            "phase": None if fuse.phase is None else PHASE_NAMES[fuse.phase],
            "phase_current_a": fuse.phase_current_a,
            "fuse_a": fuse.fuse_a,
            "rise_in_s": fuse.rise_in_s,
            "text": fuse.text(),
        },
    }


def grid_status(main_fuse: MainFuse | None, now_mono_s: float) -> dict[str, Any] | None:
    if main_fuse is None:
        return None
    r = main_fuse.reading
    return {
        "main_fuse_a": main_fuse.config.main_fuse_a,
        "margin_a": main_fuse.config.margin_a,
        "current_a": None if r is None else list(r.current_a),
        "age_s": None if r is None else round(now_mono_s - r.at_s, 1),
        "silent": r is None or now_mono_s - r.at_s > main_fuse.config.silent_after_s,
        "failed_reads": main_fuse.failures,
    }


def phase_chooser(settings: Settings, connector_id: int) -> PhaseChooser:
    c = next(c for c in settings.connector if c.id == connector_id)
    if c.phase_switch is None:
        return PhaseChooser()
    return PhaseChooser(up_after_s=c.phase_switch.up_after_s)


def phase_status(u: ConnectorUnit) -> dict[str, Any]:
    """`phases_in_use` for every connector; `phase_switch` where the hardware can switch."""
    from controller.charger.phase_wiring import phases_in_use

    report = getattr(u.driver, "phase_switch_report", None)
    r = report() if callable(report) else None
    return {
        "phases_in_use": phases_in_use(u.driver),
        "phase_switch": None
        if r is None
        else {
            "wanted": u.phases,
            "reason": None if u.phase_reason is None else u.phase_reason.value,
            "step": r.step.value,
            "disabled": r.disabled,
            "last_result": r.last_result,
            "switches": r.switches,
        },
    }
