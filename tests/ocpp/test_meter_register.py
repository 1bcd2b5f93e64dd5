"""The register kept per connector in ocpp.sqlite: it never runs backwards within a
transaction, a start re-bases it (a replaced meter), and it survives reopening the file."""

from datetime import UTC, datetime

from controller.ocpp.outbox import OcppDb
from controller.ocpp.queue_layout import StoredTransaction


def _tx(key, meter_start_wh):
    return StoredTransaction(key, 1, None, "T", datetime.now(UTC), meter_start_wh)


def test_register_only_grows_within_a_transaction_and_survives_a_reopen(tmp_path):
    path = tmp_path / "ocpp.sqlite"
    db = OcppDb(path)
    assert db.last_register_wh(1) is None
    db.open_transaction(_tx("a", 1000.0), {})
    db.enqueue("MeterValues", {}, "a", (1, 1086.6))
    db.enqueue("MeterValues", {}, "a", (1, 18.6))  # a meter that restarted at 0
    assert db.last_register_wh(1) == 1086.6
    db.close()
    db = OcppDb(path)
    assert db.last_register_wh(1) == 1086.6
    db.close_transaction("a", {}, (1, 1090.0))
    assert db.last_register_wh(1) == 1090.0
    assert db.last_register_wh(2) is None
    # A new meter reads 5 Wh: the next transaction's meterStart re-bases the register.
    db.open_transaction(_tx("b", 5.0), {})
    assert db.last_register_wh(1) == 5.0
    db.close()
