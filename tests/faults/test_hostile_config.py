"""Configuration values a CSMS should not be able to set (issue 9, items 14 and 16), over a
real websocket: refused before anything is stored, and the charger keeps working."""

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ocpp_helpers import make_settings, running
from test_hostile_csms import RawCsms, _with_charger

from controller.ocpp.outbox import OcppDb
from controller.ocpp.security import Transport, profile_refusal


class RecordingCsms(RawCsms):
    """Also keeps every CALL the charger sends."""

    def __init__(self):
        super().__init__()
        self.calls = asyncio.Queue()

    async def _serve(self, ws):
        async for text in ws:
            msg = json.loads(text)
            if msg[0] == 2:
                await self.calls.put(msg)
                payload = {}
                if msg[2] == "BootNotification":
                    payload = {"status": "Accepted", "currentTime": "2024-05-01T10:00:00Z"}
                    payload["interval"] = 300
                elif msg[2] == "StatusNotification":
                    self.ready.set()
                await ws.send(json.dumps([3, msg[1], payload]))
            else:
                await self.replies.put(msg)


def _change(msg_id, key, value):
    return json.dumps([2, msg_id, "ChangeConfiguration", {"key": key, "value": value}])


BAD_VALUES = [
    ("MeterValuesSampledData", ""),
    ("MeterValuesSampledData", " "),
    ("MeterValuesSampledData", ","),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,,Voltage"),
    ("MeterValuesSampledData", "Voltage,Voltage"),
    ("MeterValuesSampledData", "Energy.Active.Import.Interval"),  # known to OCPP, not sampled here
    ("MeterValuesSampledData", "energy.active.import.register"),
    ("MeterValuesAlignedData", ""),
    ("StopTxnSampledData", "Bogus"),
    ("StopTxnAlignedData", "Voltage,"),
    ("HeartbeatInterval", " 300"),
    ("HeartbeatInterval", "+300"),
    ("HeartbeatInterval", "3_00"),
    ("HeartbeatInterval", "\u0663\u0660\u0660"),  # Arabic-Indic digits: int() takes them
    ("MeterValueSampleInterval", ""),
    ("ConnectorPhaseRotation", "garbage"),
    ("ConnectorPhaseRotation", "7.RST"),
    ("ConnectorPhaseRotation", "0.RST,0.RTS"),
]


def test_bad_values_of_writable_keys_are_rejected_and_meter_values_keep_flowing(tmp_path):
    csms = RecordingCsms()

    async def main():
        server = await websockets.serve(
            csms.handler, "127.0.0.1", 0, subprotocols=[websockets.Subprotocol("ocpp1.6")]
        )
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        try:
            async with running(make_settings(url, tmp_path)):
                await asyncio.wait_for(csms.ready.wait(), 30)
                before = await csms.call(json.dumps([2, "g0", "GetConfiguration", {}]))
                answers = {}
                for i, (key, value) in enumerate(BAD_VALUES):
                    answers[(key, value)] = (await csms.call(_change(f"c{i}", key, value)))[2]
                good = await csms.call(_change("ok", "StopTxnAlignedData", ""))
                after = await csms.call(json.dumps([2, "g1", "GetConfiguration", {}]))
                trigger = await csms.call(
                    json.dumps([2, "t", "TriggerMessage", {"requestedMessage": "MeterValues"}])
                )
                while True:
                    msg = await asyncio.wait_for(csms.calls.get(), 20)
                    if msg[2] == "MeterValues":
                        break
                return before, answers, good, after, trigger, msg
        finally:
            server.close()

    before, answers, good, after, trigger, meter = asyncio.run(asyncio.wait_for(main(), 120))
    assert answers == {kv: {"status": "Rejected"} for kv in BAD_VALUES}
    assert good[2] == {"status": "Accepted"}  # an empty StopTxn list is allowed
    values = lambda r: {e["key"]: e.get("value") for e in r[2]["configurationKey"]}  # noqa: E731
    unchanged = {k for k, _ in BAD_VALUES}
    assert {k: values(after)[k] for k in unchanged} == {k: values(before)[k] for k in unchanged}
    assert trigger[2] == {"status": "Accepted"}
    sampled = meter[3]["meterValue"][0]["sampledValue"]
    assert {s["measurand"] for s in sampled} >= {"Energy.Active.Import.Register"}


def test_a_stored_empty_measurand_list_from_an_older_version_is_ignored(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    db = OcppDb(state / "ocpp.sqlite")
    db.set_config("MeterValuesSampledData", "")
    db.close()

    async def body(csms, charger):
        return charger.ocpp.keys.get_list("MeterValuesSampledData")

    measurands = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 60))
    assert "Energy.Active.Import.Register" in measurands


def test_a_security_profile_the_url_cannot_honour_is_rejected(tmp_path):
    async def body(csms, charger):
        out = []
        for i, (key, value) in enumerate(
            [
                ("SecurityProfile", "2"),  # ws:// URL: would send Basic auth in clear
                ("SecurityProfile", "3"),  # no wss://, no client certificate
                ("SecurityProfile", "1"),  # Basic auth, but no password anywhere yet
                ("AuthorizationKey", "00112233445566778899aabbccddeeff"),
                ("SecurityProfile", "1"),  # now it can
                ("SecurityProfile", "2"),
            ]
        ):
            out.append((await csms.call(_change(f"s{i}", key, value)))[2]["status"])
        keys = await csms.call(
            json.dumps([2, "g", "GetConfiguration", {"key": ["SecurityProfile"]}])
        )
        return out, keys

    out, keys = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 60))
    assert out == [
        "Rejected",
        "Rejected",
        "Rejected",
        "RebootRequired",
        "RebootRequired",
        "Rejected",
    ]
    assert keys[2]["configurationKey"][0]["value"] == "1"


def test_an_accepted_tls_profile_with_a_plain_url_never_connects_in_clear(tmp_path):
    """The configuration file was changed to ws:// after profile 2 was accepted."""
    state = tmp_path / "state"
    state.mkdir()
    db = OcppDb(state / "ocpp.sqlite")
    db.set_config("SecurityProfile", "2")
    db.close()
    connections = []

    async def handler(ws):
        connections.append(ws.request.headers.get("Authorization"))
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.recv()

    async def main():
        server = await websockets.serve(
            handler, "127.0.0.1", 0, subprotocols=[websockets.Subprotocol("ocpp1.6")]
        )
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        try:
            async with running(make_settings(url, tmp_path, password="secret-secret"), 0.2) as c:
                await asyncio.sleep(3)  # several connection attempts at this backoff
                return c.ocpp.link_state
        finally:
            server.close()

    link = asyncio.run(asyncio.wait_for(main(), 60))
    assert connections == []
    assert link in ("offline", "connecting")


@pytest.mark.parametrize(
    ("profile", "url", "password", "cert", "key_set", "ok"),
    [
        (2, "wss://csms.example/ocpp", False, False, True, True),
        (2, "WSS://csms.example/ocpp", True, False, False, True),
        (3, "wss://csms.example/ocpp", False, True, False, True),
        (3, "wss://csms.example/ocpp", True, False, True, False),
        (2, "ws://csms.example/ocpp", True, True, True, False),
        (0, "ws://csms.example/ocpp", False, False, False, True),
    ],
)
def test_profile_rules(profile, url, password, cert, key_set, ok):
    assert (profile_refusal(profile, Transport(url, password, cert), key_set) is None) is ok
