"""A malformed or schema-breaking frame from a 2.0.1 CSMS gets a CALLERROR and the link stays
up; nothing it sends reaches the station as a traceback (in-memory link, fake clock)."""

from __future__ import annotations

import json

from rig201 import booted, rig201

from tests.ocpp.unit.ocpp_unit_rig import settle, until


async def test_bad_frames_are_answered_with_call_errors_and_the_link_stays_up(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        ours = r.opener.ends[-1]
        sent: list[list] = []
        real_send = ours.send

        async def recording(message: str) -> None:
            sent.append(json.loads(message))
            await real_send(message)

        ours.send = recording  # type: ignore[method-assign]
        profile = {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": "x",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1e400}],
                }
            ],
        }
        frames = [
            "not json",
            '[2, "a1", "SetChargingProfile", {"evseId": 1, "chargingProfile": {"id": NaN}}]',
            json.dumps([2, "a2", "SetChargingProfile", {"evseId": 1}]),  # chargingProfile missing
            json.dumps([2, "a3", "RequestStopTransaction", {"transactionId": 5}]),  # not a string
            json.dumps([2, "a4", "NoSuchAction", {}]),
            json.dumps([2, "a5", "SetChargingProfile", {"evseId": 1, "chargingProfile": profile}]),
            json.dumps([2, "a6", "RequestStopTransaction", {"transactionId": "none"}]),
        ]
        for frame in frames:
            ours._in.queue.put_nowait(frame)
        await until(lambda: len(sent) == len(frames))
        await settle()
        by_id = {f[1]: f for f in sent}
        for message_id in ("a1", "a2", "a3", "a4", "a5"):
            assert by_id[message_id][0] == 4, by_id[message_id]  # a CALLERROR
        assert by_id["-1"][0] == 4  # the frame that was not JSON
        assert by_id["a6"] == [
            3,
            "a6",
            {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "TxNotFound",
                    "additionalInfo": "no transaction 'none' is running",
                },
            },
        ]
        assert r.service.link_state == "booted"
        assert r.opener.attempts == 1  # the same connection throughout
        assert r.service.frames_rejected >= 2
