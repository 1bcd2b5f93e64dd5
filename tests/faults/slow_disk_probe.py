"""Run under LD_PRELOAD=slow_fsync.so by test_slow_fsync: a charger in process, and at the
moment the CSMS receives a message (or an Accepted), what a second connection finds on disk.
Prints one JSON document."""

import asyncio
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

from ocpp.v16 import call

from controller.app import Charger
from controller.config import make_settings
from controller.demo import csms as demo_csms

CP = "CP-SLOW"


def on_disk(path: Path, sql: str) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


async def main() -> dict:
    seen: dict[str, list[int]] = {"StartTransaction": [], "MeterValues": []}
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        real_record = demo_csms._CentralSide._record

        def record(self, action, payload):
            if action == "StartTransaction":
                seen[action].append(
                    on_disk(
                        state / "ocpp.sqlite",
                        "SELECT COUNT(*) FROM outbox WHERE action = 'StartTransaction'",
                    )
                )
            elif action == "MeterValues" and len(seen[action]) < 3:
                seen[action].append(
                    on_disk(
                        state / "ocpp.sqlite",
                        "SELECT COUNT(*) FROM outbox WHERE action = 'MeterValues'",
                    )
                )
            return real_record(self, action, payload)

        demo_csms._CentralSide._record = record
        csms = demo_csms.DemoCsms()
        url = await csms.start()
        charger = Charger(
            make_settings(
                ocpp={"url": url, "charge_point_id": CP, "free_vend_id_tag": "FREE"},
                state={"dir": state},
                connector=[{"id": 1, "driver": "sim"}],
                simulator={"ev_response_s": 0.2},
                web={"enabled": False},
            )
        )
        task = asyncio.create_task(charger.run())
        await csms.wait_for("StatusNotification", lambda r: r.payload["status"] == "Charging", 60)
        await csms.call(CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"))
        async with asyncio.timeout(60):
            while len(seen["MeterValues"]) < 3:
                await asyncio.sleep(0.1)
        answer = await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=0,
                cs_charging_profiles={
                    "chargingProfileId": 42,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "startSchedule": "2024-01-01T00:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
                    },
                },
            ),
        )
        profile_on_disk = on_disk(
            state / "profiles.sqlite", "SELECT COUNT(*) FROM profiles WHERE profile_id = 42"
        )
        installed = [ip.profile.profile_id for ip in charger.profiles.installed()]
        charger.stop()
        await asyncio.wait_for(task, 30)
        await csms.close()
    return {
        "answer": answer.status,
        "profile_on_disk_at_accepted": profile_on_disk,
        "installed": installed,
        "start_transaction_rows_at_receipt": seen["StartTransaction"],
        "meter_values_rows_at_receipt": seen["MeterValues"],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(asyncio.wait_for(main(), 120))))
    sys.exit(0)
