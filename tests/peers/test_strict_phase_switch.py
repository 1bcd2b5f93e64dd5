"""The strict CSMS asks for one phase with numberPhases: 1 and sees it in MeterValues: the
current on L1 only, Current.Offered at the profile's limit (issue 14, item 8)."""

import asyncio
import contextlib

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CP-PHASE-1"
pytestmark = [
    pytest.mark.skipif(StrictCsms.available() is not None, reason=str(StrictCsms.available())),
    pytest.mark.slow,
]


def _values(payload, measurand):
    out = {}
    for mv in payload.get("meterValue", []):
        for sv in mv["sampledValue"]:
            if sv.get("measurand") == measurand:
                out[sv.get("phase")] = float(sv["value"])
    return out


def _one_phase(tx_id):
    return {
        "chargingProfileId": 31,
        "transactionId": tx_id,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13, "numberPhases": 1}],
        },
    }


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        charger = Charger(
            make_settings(
                ocpp={"url": csms.url, "charge_point_id": CP},
                state={"dir": tmp_path / "state"},
                connector=[{"id": 1, "max_current_a": 16, "phase_switch": {"wait_s": 2}}],
                simulator={"ev_response_s": 0.3},
                pilot={"min_pause_s": 5},
                web={"enabled": False},
            )
        )
        run = asyncio.create_task(charger.run())
        try:
            await csms.wait_for_call("BootNotification", timeout=30)
            r = await csms.call(
                CP, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
            )
            assert r["status"] == "Accepted"
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "PH", "connectorId": 1})
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StartTransaction", timeout=20)
            tx_id = 1  # the peer numbers transactions from 1
            await csms.wait_for_call(
                "MeterValues",
                lambda p: _values(p, "Current.Import").get("L3", 0) > 15.9,
                timeout=30,
            )
            r = await csms.call(
                CP,
                "SetChargingProfile",
                {"connectorId": 1, "csChargingProfiles": _one_phase(tx_id)},
            )
            assert r["status"] == "Accepted"
            mv = await csms.wait_for_call(
                "MeterValues",
                lambda p: (
                    _values(p, "Current.Import").get("L1", 0) > 12.9
                    and _values(p, "Current.Import").get("L3", 1) == 0.0
                ),
                timeout=40,
            )
            offered = _values(mv["payload"], "Current.Offered")
            imported = _values(mv["payload"], "Current.Import")
            doc = charger.status_document()["connectors"][0]
            return csms.violations, offered, imported, doc
        finally:
            charger.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run, 20)


def test_number_phases_1_charges_on_one_phase(tmp_path):
    violations, offered, imported, doc = asyncio.run(asyncio.wait_for(_story(tmp_path), 150))
    assert violations == []
    assert offered == {None: 13.0}
    assert imported == {"L1": 13.0, "L2": 0.0, "L3": 0.0}
    assert doc["phases_in_use"] == 1
    assert doc["phase_switch"]["reason"] == "profile"
    assert doc["phase_switch"]["switches"] == 1
