"""numberOfPhasesUsed in TransactionEvent (E02.FR.18/19) and the 2.0.1 transaction's id in the
status document, on an in-memory link and a fake clock."""

from __future__ import annotations

from hw.base import CpState
from tests.ocpp.unit.ocpp_unit_rig import settle, until
from tests.ocpp201.rig201 import booted, rig201


def _phases(events):
    return [(e["triggerReason"], e.get("numberOfPhasesUsed")) for e in events]


async def test_phases_are_sent_when_energy_starts_and_when_they_change(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        r.hardware.cp_state = CpState.B
        r.changed()
        assert r.service.handlers.request_start({"id_token": "R", "type": "Central"}, 1, 1, None)
        await until(lambda: len(r.events()) == 1)
        assert "numberOfPhasesUsed" not in r.events()[0]  # no energy yet
        r.hardware.charge()
        r.changed()
        await until(lambda: len(r.events()) == 2)
        charging = r.events()[1]
        assert charging["transactionInfo"]["chargingState"] == "Charging"
        assert charging["numberOfPhasesUsed"] == 3  # not said by the hardware: the supply's
        r.changed()
        await settle()
        assert len(r.events()) == 2  # nothing changed, nothing sent
        r.hardware.phases_in_use = 1  # switched to one phase
        r.changed()
        await until(lambda: len(r.events()) == 3)
        assert _phases(r.events()[2:]) == [("ChargingRateChanged", 1)]
        tx = r.service.active_transaction(1)
        assert tx is not None
        assert tx.central_id == charging["transactionInfo"]["transactionId"]


async def test_a_transaction_that_starts_charging_says_its_phases_in_started(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        r.hardware.charge()
        r.hardware.phases_in_use = 2
        r.changed()
        assert r.service.handlers.request_start({"id_token": "R", "type": "Central"}, 1, 1, None)
        await until(lambda: len(r.events()) == 1)
        started = r.events()[0]
        assert started["transactionInfo"]["chargingState"] == "Charging"
        assert started["numberOfPhasesUsed"] == 2
