"""A connector's fault reaches `status` as its kind and its text."""

from controller.status import render


def _doc(**connector):
    return {"version": "x", "pid": 1, "uptime_s": 0, "link": {}, "connectors": [connector]}


def test_status_shows_the_fault_kind_beside_its_text():
    text = render(_doc(id=1, fault="relay stuck closed", fault_kind="contactor"))
    assert "FAULT (contactor): relay stuck closed" in text


def test_a_fault_without_a_kind_still_shows_its_text():
    text = render(_doc(id=1, fault="driver not answering", fault_kind=None))
    assert "FAULT: driver not answering" in text
