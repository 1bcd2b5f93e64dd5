"""The station model on its own: one owner of transactions, persisted once, events out."""

from datetime import UTC, datetime

import pytest

from controller.ocpp.journal import OcppJournal
from controller.ocpp.outbox import OcppDb
from controller.station import (
    Authorization,
    ConnectorStates,
    EventKind,
    Events,
    StopReason,
    TransactionBook,
    TransactionInfo,
)

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class MemoryJournal:
    def __init__(self) -> None:
        self.records: list[tuple[str, object]] = []
        self.fail = False

    def stored_open(self) -> list[TransactionInfo]:
        return []

    def record_start(self, tx: TransactionInfo) -> None:
        if self.fail:
            raise OSError("disk full")
        self.records.append(("start", tx.tx_key))

    def record_id(self, tx_key: str, transaction_id: int) -> None:
        self.records.append(("id", transaction_id))

    def record_stop(self, tx, meter_stop_wh, reason, at, stop_id_tag=None) -> None:
        self.records.append(("stop", (tx.tx_key, meter_stop_wh, reason)))


def _book() -> tuple[TransactionBook, MemoryJournal, list]:
    events = Events()
    seen: list = []
    events.subscribe(seen.append)
    journal = MemoryJournal()
    return TransactionBook(journal, events), journal, seen


def test_start_confirm_stop_are_journalled_once_and_emitted():
    book, journal, seen = _book()
    book.start(TransactionInfo(1, None, "TAG", T0, 100.0, "k1"))
    (confirmed,) = book.confirm("k1", 77)
    assert confirmed.transaction_id == 77 and book.by_transaction_id(77) == 1
    stopped = book.stop(1, StopReason.REMOTE, 250.0, T0)
    assert stopped is not None and stopped.transaction_id == 77
    assert book.get(1) is None and book.stop(1, StopReason.REMOTE, 0, T0) is None
    assert journal.records == [("start", "k1"), ("id", 77), ("stop", ("k1", 250.0, "Remote"))]
    assert [e.kind for e in seen] == [
        EventKind.TRANSACTION_STARTED,
        EventKind.TRANSACTION_CONFIRMED,
        EventKind.TRANSACTION_STOPPED,
    ]
    assert seen[-1].meter_stop_wh == 250.0 and seen[-1].reason is StopReason.REMOTE


def test_a_start_that_cannot_be_persisted_does_not_exist():
    book, journal, seen = _book()
    journal.fail = True
    with pytest.raises(OSError):
        book.start(TransactionInfo(1, None, "TAG", T0, 100.0, "k1"))
    assert book.get(1) is None and seen == []


def test_a_second_start_on_a_busy_connector_is_refused():
    book, _, _ = _book()
    book.start(TransactionInfo(1, None, "A", T0, 0.0, "k1"))
    with pytest.raises(ValueError, match="already"):
        book.start(TransactionInfo(1, None, "B", T0, 0.0, "k2"))


def test_open_transactions_survive_a_restart_through_the_ocpp_store(tmp_path):
    db = OcppDb(tmp_path / "ocpp.sqlite")
    book = TransactionBook(OcppJournal(db, lambda cid: []), Events())
    book.start(TransactionInfo(1, None, "TAG", T0, 1234.0, "k1"))
    book.start(TransactionInfo(2, None, "TAG2", T0, 10.0, "k2"))
    book.confirm("k1", 9)
    db.close()
    db = OcppDb(tmp_path / "ocpp.sqlite")
    again = TransactionBook(OcppJournal(db, lambda cid: []), Events())
    # Connector 2 is no longer configured: its transaction stays stored, untouched.
    restored = again.restore({1})
    assert restored == [TransactionInfo(1, 9, "TAG", T0, 1234.0, "k1")]
    assert len(db.open_transactions()) == 2
    # One commit per start: the StartTransaction messages are queued with the records.
    assert db.pending() == 2
    db.close()


def test_connector_states_persist_availability_and_finishing(tmp_path):
    db = OcppDb(tmp_path / "ocpp.sqlite")
    states = ConnectorStates([1, 2], db, Events())
    states.set_operative(2, False)
    states.set_finishing(1, True)
    states.authorize(1, Authorization("TAG", None, expires_mono=10.0))
    assert states.authorization(1, 9.0) is not None
    assert states.authorization(1, 11.0) is None  # expired, and forgotten
    db.close()
    db = OcppDb(tmp_path / "ocpp.sqlite")
    again = ConnectorStates([1, 2], db, Events())
    assert again.operative(1) and not again.operative(2)
    assert again.finishing(1) and not again.authorized(1)
    db.close()


class _Gate:
    def __init__(self) -> None:
        self.open = False
        self.asked: list[tuple[int, str]] = []

    def may_start(self, connector_id: int, auth: Authorization) -> bool:
        self.asked.append((connector_id, auth.id_tag))
        return self.open


def test_a_start_gate_holds_the_start_until_it_admits(tmp_path):
    states = ConnectorStates([1], MemoryStore(), Events())
    gate = _Gate()
    auth = Authorization("TAG", None, expires_mono=10.0)
    assert states.admits(1, auth)  # no gate: anything authorised may start
    states.add_gate(gate)
    assert not states.admits(1, auth)
    gate.open = True
    assert states.admits(1, auth)
    assert gate.asked == [(1, "TAG"), (1, "TAG")]


class MemoryStore:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def config_items(self) -> dict[str, str]:
        return dict(self.items)

    def set_config(self, key: str, value: str) -> None:
        self.items[key] = value
