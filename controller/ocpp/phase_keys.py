"""`ConnectorPhaseRotation` and `ConnectorSwitch3to1PhaseSupported` from the configured wiring.

Both keys describe the installation, which the configuration knows and the CSMS does not: a
connector's rotation is its `[[connector]] phase_rotation` in the spec's notation (R, S, T for
the grid's L1, L2, L3, in the order of the car's L1, L2, L3: `L2L3L1` is `STR`), `NotApplicable`
on a single-phase connector (OCPP 1.6 §9.1.7), `Unknown` on a three-phase one whose wiring the
file does not state. Switching 3 to 1 phases is claimed only when every connector can. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_LETTER = {"L1": "R", "L2": "S", "L3": "T"}


@dataclass(frozen=True, slots=True)
class ConnectorWiring:
    connector_id: int
    phases: int
    rotation: str | None
    """The configured `L1L2L3`-style rotation; None when the file leaves it to the default."""
    can_switch_phases: bool


def ocpp_rotation(phases: int, rotation: str | None) -> str:
    if phases == 1:
        return "NotApplicable"
    if rotation is None:
        return "Unknown"
    grid = [rotation[i : i + 2].upper() for i in range(0, len(rotation), 2)]
    if len(grid) != 3 or any(g not in _LETTER for g in grid):
        return "Unknown"
    return "".join(_LETTER[g] for g in grid)


def rotation_value(wiring: Sequence[ConnectorWiring]) -> str:
    """`1.RST,2.STR`: each connector in order (connector 0, the grid meter's own rotation, is
    not known to the configuration and left out, as the spec allows)."""
    return ",".join(
        f"{w.connector_id}.{ocpp_rotation(w.phases, w.rotation)}"
        for w in sorted(wiring, key=lambda w: w.connector_id)
    )


def switch_supported(wiring: Sequence[ConnectorWiring]) -> bool:
    return bool(wiring) and all(w.can_switch_phases for w in wiring)
