"""The stateful shell: persistence across a restart and a kill, and the transaction id race."""

import json
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from controller.smart_charging import ProfileStore, SmartChargingConfig, Transaction

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def tx_profile(pid, stack, limit, **extra):
    return {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
        **extra,
    }


def test_profiles_and_the_anchor_survive_a_restart(tmp_path):
    db = tmp_path / "p.sqlite"
    s = ProfileStore(SmartChargingConfig(), db)
    s.transaction_started(1, 42, T0)
    assert s.set_charging_profile(1, tx_profile(1001, 1, 0), T0).accepted
    assert s.set_charging_profile(
        1,
        tx_profile(
            1002,
            10,
            16,
            chargingSchedule={
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            },
        ),
        T0,
    ).accepted
    s.close()
    again = ProfileStore(SmartChargingConfig(), db)
    # The station owns the transaction; at start-up the store is told of it from the journal.
    assert again.transaction(1) is None
    again.restore_transactions([Transaction(1, 42, T0 + timedelta(microseconds=700))], {1})
    assert again.transaction(1).start == T0
    assert again.limit_at(1, T0 + timedelta(minutes=5)).value == 16.0
    stored = {ip.profile.profile_id: ip.profile for ip in again.installed()}
    assert stored[1002].stack_level == 10  # the maximum stack level is reloaded too
    assert stored[1002].schedule.min_charging_rate == 6.0
    again.transaction_stopped(1)
    again.close()
    third = ProfileStore(SmartChargingConfig(), db)
    assert third.installed() == [] and third.transaction(1) is None


def test_accepted_means_on_disk_even_after_sigkill(tmp_path):
    db = tmp_path / "p.sqlite"
    script = textwrap.dedent(f"""
        import os, signal, sys
        from datetime import UTC, datetime
        from controller.smart_charging import ProfileStore, SmartChargingConfig
        s = ProfileStore(SmartChargingConfig(), __import__("pathlib").Path({str(db)!r}))
        s.transaction_started(1, 42, datetime(2024, 5, 1, 10, tzinfo=UTC))
        r = s.set_charging_profile(1, {json.dumps(tx_profile(1001, 1, 0))},
                                   datetime(2024, 5, 1, 10, 5, tzinfo=UTC))
        print(r.status, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "Accepted" and out.returncode == -signal.SIGKILL
    s = ProfileStore(SmartChargingConfig(), db)
    assert [ip.profile.profile_id for ip in s.installed()] == [1001]


def test_tx_profile_quoting_the_id_before_the_conf_arrived(tmp_path):
    # The CSMS answers StartTransaction and at once sends a TxProfile for that id; the charger
    # may read the profile before the answer: accept, and keep it if the id matches.
    s = ProfileStore(SmartChargingConfig())
    s.transaction_started(1, None, T0)
    assert s.set_charging_profile(1, tx_profile(1001, 1, 0, transactionId=7), T0).accepted
    assert s.set_charging_profile(1, tx_profile(1003, 2, 10, transactionId=8), T0).accepted
    s.transaction_id_assigned(1, 7)
    assert [ip.profile.profile_id for ip in s.installed()] == [1001]
    assert s.installed()[0].profile.transaction_id == 7
    # Once the id is known, a wrong one is refused at once.
    assert not s.set_charging_profile(1, tx_profile(1004, 3, 10, transactionId=8), T0).accepted


def test_naive_datetimes_are_refused():
    s = ProfileStore(SmartChargingConfig())
    try:
        s.limit_at(1, datetime(2024, 5, 1, 10, 0))
    except ValueError as exc:
        assert "naive" in str(exc)
    else:
        raise AssertionError("a naive datetime was accepted")
