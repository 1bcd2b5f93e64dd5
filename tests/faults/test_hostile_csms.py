"""A hostile CSMS: random garbage frames (generated with hypothesis), wrong types, unknown
actions, huge payloads and a burst of profiles. Every CALL gets exactly one answer, the service
keeps running, memory stays bounded, and the car keeps its correct limit."""

import asyncio
import json
import resource
import sys
from pathlib import Path

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
import contextlib

from ocpp_helpers import make_settings, running

ACTIONS = [
    "SetChargingProfile",
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "Reset",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ChangeConfiguration",
    "GetConfiguration",
    "TriggerMessage",
    "ChangeAvailability",
    "UnlockConnector",
    "DataTransfer",
    "ClearCache",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _not_a_response(v):
    return not (isinstance(v, list) and len(v) >= 3 and v[0] in (3, 4))


frames = st.one_of(
    st.text(max_size=40),  # mostly not JSON at all
    json_values.filter(_not_a_response).map(json.dumps),
    st.tuples(
        st.text(min_size=1, max_size=8),
        st.sampled_from(ACTIONS),
        st.dictionaries(
            st.sampled_from(
                [
                    "connectorId",
                    "csChargingProfiles",
                    "type",
                    "key",
                    "value",
                    "id",
                    "duration",
                    "idTag",
                    "requestedMessage",
                ]
            ),
            json_values,
            max_size=4,
        ),
    ).map(lambda t: json.dumps([2, t[0], t[1], t[2]])),
    st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)).map(
        lambda t: json.dumps([2, t[0], t[1], {}])
    ),
)

CAP = {
    "chargingProfileId": 900,
    "stackLevel": 0,
    "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "startSchedule": "2024-01-01T00:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20}],
    },
}


class RawCsms:
    """Talks raw frames; answers the charger's own CALLs with minimal valid results."""

    def __init__(self):
        self.ws = None
        self.ready = asyncio.Event()
        self.replies = asyncio.Queue()

    async def handler(self, ws):
        self.ws = ws
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._serve(ws)

    async def _serve(self, ws):
        async for text in ws:
            msg = json.loads(text)
            if msg[0] == 2:
                payload = {}
                if msg[2] == "BootNotification":
                    payload = {
                        "status": "Accepted",
                        "currentTime": "2024-05-01T10:00:00Z",
                        "interval": 300,
                    }
                elif msg[2] == "Heartbeat":
                    payload = {"currentTime": "2024-05-01T10:00:00Z"}
                elif msg[2] == "StatusNotification":
                    self.ready.set()
                await ws.send(json.dumps([3, msg[1], payload]))
            else:
                await self.replies.put(msg)

    async def call(self, frame, timeout=20):
        await self.ws.send(frame)
        return await asyncio.wait_for(self.replies.get(), timeout)


async def _with_charger(tmp_path, body):
    csms = RawCsms()
    server = await websockets.serve(
        csms.handler,
        "127.0.0.1",
        0,
        max_size=None,
        subprotocols=[websockets.Subprotocol("ocpp1.6")],
    )
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    try:
        async with running(make_settings(url, tmp_path)) as charger:
            await asyncio.wait_for(csms.ready.wait(), 30)
            reply = await csms.call(
                json.dumps(
                    [2, "cap", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": CAP}]
                )
            )
            assert reply == [3, "cap", {"status": "Accepted"}]
            return await body(csms, charger)
    finally:
        server.close()


def _cap_now(charger):
    from datetime import UTC, datetime

    return charger.profiles.station_limit_at(datetime.now(UTC)).value


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(frames, min_size=150, max_size=150))
def test_every_garbage_frame_gets_one_answer_and_nothing_changes(tmp_path_factory, batch):
    tmp_path = tmp_path_factory.mktemp("hostile")
    big = json.dumps([2, "huge", "DataTransfer", {"vendorId": "x", "data": "A" * 2_000_000}])

    async def body(csms, charger):
        answers = []
        for frame in [*batch, big]:
            answers.append(await csms.call(frame))
        # Still alive and correct: a valid call works, the cap is untouched.
        ok = await csms.call(json.dumps([2, "after", "ClearCache", {}]))
        return answers, ok, _cap_now(charger)

    answers, ok, cap = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 300))
    assert len(answers) == len(batch) + 1
    assert all(a[0] in (3, 4) for a in answers)
    assert ok == [3, "after", {"status": "Accepted"}]
    assert cap == 20.0


@pytest.mark.slow
def test_a_burst_of_10000_profiles(tmp_path):
    async def body(csms, charger):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        statuses = []
        for i in range(10_000):
            profile = {
                "chargingProfileId": 1000 + i,
                "stackLevel": i % 12,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6 + i % 20}],
                },
            }
            r = await csms.call(
                json.dumps(
                    [
                        2,
                        f"p{i}",
                        "SetChargingProfile",
                        {"connectorId": 1, "csChargingProfiles": profile},
                    ]
                )
            )
            statuses.append(r[2]["status"] if r[0] == 3 else r[2])
        grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        return statuses, len(charger.profiles.installed()), grown_kb, _cap_now(charger)

    statuses, installed, grown_kb, cap = asyncio.run(
        asyncio.wait_for(_with_charger(tmp_path, body), 600)
    )
    assert len(statuses) == 10_000
    # Stack level 11 is over ChargeProfileMaxStackLevel; with the cap and stack levels 0..8
    # installed, MaxChargingProfilesInstalled (10) refuses new slots 9 and 10, while every
    # replacement of an installed slot is accepted.
    expected = ["Rejected" if i % 12 in (9, 10, 11) else "Accepted" for i in range(10_000)]
    assert statuses == expected
    assert installed == 10
    assert grown_kb < 50_000
    assert cap == 20.0
