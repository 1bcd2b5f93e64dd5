"""Absurd frames from a CSMS (issue 9, items 10, 11 and 13), over a real websocket: each CALL
gets one answer, the link stays up and the car keeps its limit."""

import asyncio
import json
import sys
from pathlib import Path

import pytest
from ocpp.v16 import call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_hostile_csms import _cap_now, _with_charger


def _set_profile(msg_id, limit_json, start_schedule="2024-01-01T00:00:00Z"):
    """SetChargingProfile text with `limit_json` pasted in verbatim (NaN is not JSON)."""
    return (
        f'[2, "{msg_id}", "SetChargingProfile", {{"connectorId": 0, "csChargingProfiles": '
        f'{{"chargingProfileId": 901, "stackLevel": 1, '
        f'"chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",'
        f' "chargingSchedule": {{"startSchedule": "{start_schedule}", "chargingRateUnit": "A", '
        f'"chargingSchedulePeriod": [{{"startPeriod": 0, "limit": {limit_json}}}]}}}}}}]'
    )


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "frame",
    [
        _set_profile("nan", "NaN"),
        _set_profile("inf", "Infinity"),
        _set_profile("minus-inf", "-Infinity"),
        _set_profile("e400", "1e400"),
        _set_profile("e308", "1.7e308"),
        _set_profile("int30", "1" + "0" * 30),
        f'[2, "deep", "DataTransfer", {{"vendorId": "x", "extra": {_nested(200)}}}]',
        f'[2, "deeper", "DataTransfer", {{"vendorId": "x", "extra": {_nested(100_000)}}}]',
        '[2, "bigint", "UnlockConnector", {"connectorId": 1' + "0" * 5000 + "}]",
    ],
    ids=[
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "1.7e308",
        "10^30",
        "depth200",
        "depth100000",
        "5000-digits",
    ],
)
def test_absurd_numbers_and_nesting_get_a_format_violation(tmp_path, frame):
    msg_id = json.loads(frame[: frame.index(",", 4)] + "]")[1]

    async def body(csms, charger):
        link = csms.ws
        reply = await csms.call(frame)
        # The same websocket still answers, and the installed cap is untouched.
        after = await csms.call(json.dumps([2, "after", "ClearCache", {}]))
        return reply, after, csms.ws is link, _cap_now(charger)

    reply, after, same_link, cap = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 60))
    assert reply[:3] == [4, msg_id, "FormatViolation"]
    assert after == [3, "after", {"status": "Accepted"}]
    assert same_link
    assert cap == 20.0


def test_nan_in_a_response_is_dropped_and_the_link_stays(tmp_path):
    async def body(csms, charger):
        link = csms.ws
        await csms.ws.send('[3, "nobody-asked", {"currentTime": NaN}]')
        after = await csms.call(json.dumps([2, "after", "ClearCache", {}]))
        return after, csms.ws is link

    after, same_link = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 60))
    assert after == [3, "after", {"status": "Accepted"}]
    assert same_link


def test_1500_stray_responses_do_not_break_the_next_call(tmp_path):
    async def body(csms, charger):
        for i in range(1500):
            await csms.ws.send(json.dumps([3, f"stray-{i}", {}]))
        await csms.ws.send(json.dumps([4, "stray-error", "InternalError", "", {}]))
        # Frames are handled in order: once this is answered, every stray has been seen.
        assert await csms.call(json.dumps([2, "sync", "ClearCache", {}])) == [
            3,
            "sync",
            {"status": "Accepted"},
        ]
        session = charger.ocpp.session
        resp = await asyncio.wait_for(session.call(call.Heartbeat(), suppress=False), 20)
        return resp, session.responses_dropped

    resp, dropped = asyncio.run(asyncio.wait_for(_with_charger(tmp_path, body), 120))
    assert resp.current_time == "2024-05-01T10:00:00Z"
    assert dropped == 1501


@pytest.mark.parametrize(
    "start",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00+25:00",
    ],
)
def test_edge_dates_get_an_answer_not_an_internal_error(tmp_path, start):
    recurring = _set_profile("rec", "10", start).replace('"Absolute"', '"Recurring"')
    recurring = recurring.replace('"stackLevel"', '"recurrencyKind": "Daily", "stackLevel"')

    async def body(csms, charger):
        reply = await csms.call(_set_profile("edge", "10", start))
        rec = await csms.call(recurring)
        remote = await csms.call(
            json.dumps(
                [
                    2,
                    "rs",
                    "RemoteStartTransaction",
                    {
                        "idTag": "T1",
                        "connectorId": 1,
                        "chargingProfile": {
                            "chargingProfileId": 77,
                            "stackLevel": 0,
                            "chargingProfilePurpose": "TxProfile",
                            "chargingProfileKind": "Absolute",
                            "chargingSchedule": {
                                "startSchedule": start,
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
                            },
                        },
                    },
                ]
            )
        )
        composite = await csms.call(
            json.dumps([2, "gc", "GetCompositeSchedule", {"connectorId": 0, "duration": 86400}])
        )
        return reply, rec, remote, composite, _cap_now(charger)

    reply, rec, remote, composite, cap = asyncio.run(
        asyncio.wait_for(_with_charger(tmp_path, body), 60)
    )
    for r in (reply, rec, remote, composite):
        assert r[0] in (3, 4)
        if r[0] == 4:
            assert r[2] != "InternalError", r
    assert reply[0] == 4 or reply[2]["status"] in ("Accepted", "Rejected")
    assert rec[0] == 4 or rec[2]["status"] in ("Accepted", "Rejected")
    assert remote[0] == 4 or remote[2]["status"] in ("Accepted", "Rejected")
    assert composite[0] == 3 and composite[2]["status"] == "Accepted"
    # A stack-level-1 cap of 10 A may take over if its date is valid and in the past;
    # the charger always keeps a defined, sane limit.
    assert cap in (10.0, 20.0)
