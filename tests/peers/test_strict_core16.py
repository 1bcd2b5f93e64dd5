"""OCPP 1.6 Core rules (issue 12, items 7-9 and 11) against the independent strict CSMS (npm
ocpp-rpc, every frame schema-checked both ways): the boot gate, ConnectionTimeOut, connector
0's status, and NotSupported for profiles that are not enabled."""

import asyncio
import contextlib
import time
from dataclasses import replace

import pytest
from strict_csms import CsmsCallError, StrictCsms

from controller.app import Charger
from controller.config import make_settings

CP = "CP-CORE16"
NOW = "2026-01-01T00:00:00.000Z"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


def _settings(url, tmp_path, plugged_in=True, **ocpp):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP, **ocpp},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={"ev_response_s": 0.5, "plugged_in": plugged_in},
        web={"enabled": False},
    )


def _status_is(status, connector=1):
    return lambda p: p["connectorId"] == connector and p["status"] == status


@contextlib.asynccontextmanager
async def _charger(csms, tmp_path, **kw):
    charger = Charger(_settings(csms.url, tmp_path, **kw))
    charger.ocpp.settings = replace(charger.ocpp.settings, max_backoff_s=2.0)
    run = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(run, 20)


async def _boot_gate(tmp_path):
    async with StrictCsms.start() as csms:
        await csms.set_response(
            "BootNotification", {"status": "Rejected", "currentTime": NOW, "interval": 6}
        )
        async with _charger(csms, tmp_path) as charger:
            await csms.wait_for_call("BootNotification", timeout=30)
            await csms.wait_connected(CP, 10)
            # Rejected: the CSMS's request gets nothing back, not even a CALLERROR.
            with pytest.raises(CsmsCallError) as silent:
                await csms.call(CP, "GetConfiguration", {}, peer_timeout_ms=3000)
            assert "Call timeout" in str(silent.value)  # ocpp-rpc's own timeout, no answer
            mark = len(csms.events)
            await csms.set_response(
                "BootNotification", {"status": "Pending", "currentTime": NOW, "interval": 6}
            )
            await csms.wait_for_call("BootNotification", timeout=20, since=mark)
            await asyncio.sleep(0.5)
            # Pending: configuration yes, a session no; the car plugged in is offered nothing.
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
            assert r["status"] == "Rejected"
            r = await csms.call(
                CP, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}
            )
            assert r["status"] == "Accepted"
            keys = await csms.call(CP, "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
            assert keys["configurationKey"][0]["value"] == "30"
            await asyncio.sleep(1.5)
            assert charger.loop.unit(1).status.offered_a == 0.0
            assert charger.ocpp.active_transaction(1) is None
            mark = len(csms.events)
            await csms.set_response(
                "BootNotification", {"status": "Accepted", "currentTime": NOW, "interval": 300}
            )
            await csms.wait_for_call("StatusNotification", timeout=20, since=mark)
            r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
            assert r["status"] == "Accepted"
            await csms.wait_for_call("StatusNotification", _status_is("Charging"), 20, since=mark)
        return csms


@pytest.mark.slow
def test_rejected_boot_answers_nothing_and_pending_starts_nothing(tmp_path):
    csms = asyncio.run(asyncio.wait_for(_boot_gate(tmp_path), 120))
    assert csms.violations == [], csms.violations
    assert len(csms.calls("StartTransaction")) == 1
    before_accept = csms.calls()[: [c["action"] for c in csms.calls()].index("StatusNotification")]
    assert {c["action"] for c in before_accept} == {"BootNotification"}


async def _timeout_and_connector_zero(tmp_path):
    async with StrictCsms.start() as csms, _charger(csms, tmp_path, plugged_in=False):
        await csms.wait_for_call("StatusNotification", _status_is("Available", 0), 30)
        r = await csms.call(CP, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "10"})
        assert r["status"] == "Accepted"
        mark = len(csms.events)
        r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
        assert r["status"] == "Accepted"
        await csms.wait_for_call("StatusNotification", _status_is("Preparing"), 10, since=mark)
        started = time.monotonic()
        await csms.wait_for_call("StatusNotification", _status_is("Available"), 20, since=mark)
        waited_s = time.monotonic() - started

        mark = len(csms.events)
        r = await csms.call(CP, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
        assert r["status"] == "Accepted"
        await csms.wait_for_call("StatusNotification", _status_is("Unavailable", 0), 10, mark)
        await csms.wait_for_call("StatusNotification", _status_is("Unavailable", 1), 10, mark)
        mark = len(csms.events)
        r = await csms.call(CP, "ChangeAvailability", {"connectorId": 0, "type": "Operative"})
        assert r["status"] == "Accepted"
        await csms.wait_for_call("StatusNotification", _status_is("Available", 0), 10, mark)
        await csms.wait_for_call("StatusNotification", _status_is("Available", 1), 10, mark)
        return csms, waited_s


@pytest.mark.slow
def test_connection_timeout_and_change_availability_of_connector_zero(tmp_path):
    csms, waited_s = asyncio.run(asyncio.wait_for(_timeout_and_connector_zero(tmp_path), 90))
    assert csms.violations == [], csms.violations
    assert 8 <= waited_s <= 15
    assert csms.calls("StartTransaction") == []


async def _profiles(tmp_path):
    async with (
        StrictCsms.start() as csms,
        _charger(csms, tmp_path, feature_profiles=["Core", "RemoteTrigger"]),
    ):
        await csms.wait_for_call("StatusNotification", timeout=30)
        codes = {}
        for action, payload in [
            ("GetCompositeSchedule", {"connectorId": 1, "duration": 60}),
            ("ReserveNow", {"connectorId": 1, "expiryDate": NOW, "idTag": "T", "reservationId": 1}),
            ("GetLocalListVersion", {}),
        ]:
            with pytest.raises(CsmsCallError) as err:
                await csms.call(CP, action, payload)
            codes[action] = err.value.code
        keys = await csms.call(CP, "GetConfiguration", {"key": ["supportedfeatureprofiles"]})
        trigger = await csms.call(CP, "TriggerMessage", {"requestedMessage": "Heartbeat"})
        return csms, codes, keys["configurationKey"], trigger["status"]


@pytest.mark.slow
def test_requests_of_profiles_not_enabled_are_not_supported(tmp_path):
    csms, codes, keys, trigger = asyncio.run(asyncio.wait_for(_profiles(tmp_path), 60))
    assert csms.violations == [], csms.violations
    assert codes == dict.fromkeys(codes, "NotSupported")
    assert keys == [
        {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core,RemoteTrigger"}
    ]
    assert trigger == "Accepted"
