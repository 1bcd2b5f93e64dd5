"""docs/ocpp.md's two tables, the configuration keys and the OCPP 1.6 actions, read against the
key definitions and the session's registered handlers, so the documentation cannot drift."""

import re
from pathlib import Path
from types import SimpleNamespace

from ocpp.v16.enums import Action

from controller.ocpp.auth_handlers import AuthHandlers
from controller.ocpp.config_keys import definitions
from controller.ocpp.feature_profiles import CP_ACTIONS, CSMS_ACTIONS, IMPLEMENTED, profile_of
from controller.ocpp.firmware_handlers import Maintenance
from controller.ocpp.session import Session

DOC = Path(__file__).resolve().parents[2] / "docs" / "ocpp.md"
SMART = {
    "ChargeProfileMaxStackLevel": "10",
    "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "ChargingScheduleMaxPeriods": "24",
    "MaxChargingProfilesInstalled": "10",
}


def _table(header: str) -> list[list[str]]:
    lines = DOC.read_text().splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_every_configuration_key_is_documented_with_its_default_and_access():
    rows = {r[0]: (r[1], r[2]) for r in _table("| key | default | access |")}
    defs = {d.name: d for d in definitions(1, SMART)}
    assert set(rows) == set(defs)
    for name, (default, access) in rows.items():
        d = defs[name]
        expected = "W" if d.secret else "R" if d.readonly else "RW"
        assert access.split()[0] == expected, name
        assert ("reboot" in access) == d.reboot, name
        # A fixed default is a literal, perhaps with a remark in brackets; a computed one is
        # described in words (checked in test_profiles_and_keys).
        literal = re.fullmatch(r"`([^`]*)`( \(.*\))?", default)
        if literal:
            assert literal.group(1) == d.default, name
        elif default in ("(empty)", "(none)"):
            assert d.default == "", name


class _Conn:
    async def send(self, message: str) -> None: ...

    async def recv(self) -> str:
        raise ConnectionError


def _routed() -> set[str]:
    m = SimpleNamespace(on_update_firmware=1, on_get_diagnostics=2, after_get_diagnostics=3)
    maintenance = SimpleNamespace(routes=lambda: Maintenance.routes(m))  # type: ignore[arg-type]
    auth = AuthHandlers(None, None)  # type: ignore[arg-type]  # only its routes are read
    host = SimpleNamespace(maintenance=maintenance, auth=auth)
    session = Session(host, "CP", _Conn(), 1)  # type: ignore[arg-type]
    return {str(a) for a in session.route_map}


def test_every_ocpp_action_is_documented_with_its_profile_and_support():
    rows = _table("| action | direction | profile | support |")
    documented: dict[str, tuple[str, str, str]] = {}
    for names, direction, profile, support in rows:
        for name in names.split(", "):
            assert name not in documented, name
            documented[name] = (direction, profile, support)
    assert set(documented) == {a.value for a in Action}
    routed = _routed()
    cp_sent = {a.value: p for p, actions in CP_ACTIONS.items() for a in actions}
    for name, (direction, profile, support) in documented.items():
        expected = profile_of(name) or cp_sent.get(name)
        assert profile == (expected.value if expected else "security extension"), name
        if direction == "CP→CS":
            continue
        handled = name in routed and (expected is None or expected in IMPLEMENTED)
        if handled:
            assert support.startswith("yes"), name
        elif expected is not None and expected not in IMPLEMENTED:
            assert support.startswith("in progress"), name
        else:
            assert support.startswith("no"), name
    # Every CSMS request of an implemented profile has a handler.
    for profile in IMPLEMENTED:
        assert {a.value for a in CSMS_ACTIONS[profile]} <= routed, profile
