"""UID to idTag, wedge numbers back to UID bytes, key decoding and debounce: no hardware."""

from __future__ import annotations

import pytest
from evdev import InputEvent, ecodes

from hw.rfid.keys import PARTIAL_TIMEOUT_S, WedgeDecoder
from hw.rfid.tag import (
    BadUid,
    Debouncer,
    IdTagStyle,
    WedgeFormat,
    every_reading,
    id_tag_for,
    id_tag_from_uid,
    uid_from_wedge,
)

UID = bytes.fromhex("1C78F2BF")


def test_id_tag_is_uppercase_hex_byte0_first():
    assert id_tag_from_uid(UID) == "1C78F2BF"
    assert id_tag_from_uid(bytes.fromhex("04c43bc21c2680")) == "04C43BC21C2680"
    assert len(id_tag_from_uid(bytes(range(10)))) == 20  # a 10-byte UID fills CiString20


def test_uid_lengths_outside_ociistring20_are_refused():
    with pytest.raises(BadUid):
        id_tag_from_uid(bytes(11))
    with pytest.raises(BadUid):
        id_tag_from_uid(b"")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("3220338716", WedgeFormat.DEC_LE),
        ("0477688511", WedgeFormat.DEC_BE),
        ("1C78F2BF", WedgeFormat.HEX),
        ("bff2781c", WedgeFormat.HEX_REVERSED),
    ],
)
def test_each_wedge_format_gives_the_same_card(text, fmt):
    assert uid_from_wedge(text, fmt) == UID


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("4294967296", WedgeFormat.DEC_LE), ("12AB", WedgeFormat.DEC_LE), ("1C7", WedgeFormat.HEX)],
)
def test_wedge_text_that_is_no_uid(text, fmt):
    with pytest.raises(BadUid):
        uid_from_wedge(text, fmt)


def test_every_reading_lists_the_interpretations_of_one_swipe():
    readings = every_reading("3220338716")
    assert readings["dec_le"] == "1C78F2BF"
    assert readings["dec_be"] == "BFF2781C"
    assert readings["hex"] == "3220338716"


def test_decimal_style_keeps_the_printed_number():
    assert id_tag_for(UID, IdTagStyle.DECIMAL) == "3220338716"
    assert id_tag_for(UID, IdTagStyle.HEX) == "1C78F2BF"


def _keys(text: str, t0: float, step: float = 0.004) -> list[InputEvent]:
    """What a wedge sends for `text` + Enter: key down and up, with SYN reports between."""
    events = []
    t = t0
    for ch in text:
        code = ecodes.ecodes["KEY_" + ch.upper()]
        for value in (1, 0):
            sec, usec = int(t), int((t % 1) * 1e6)
            events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, value))
            events.append(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
            t += step
    for code in (ecodes.KEY_ENTER,):
        sec, usec = int(t), int((t % 1) * 1e6)
        events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, 1))
        events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, 0))
    return events


def _decode(decoder: WedgeDecoder, events: list[InputEvent]) -> list[str]:
    lines = []
    for ev in events:
        line = decoder.feed(ev.type, ev.code, ev.value, ev.timestamp())
        if line is not None:
            lines.append(line)
    return lines


def test_key_codes_from_evdev_events_decode_to_the_typed_line():
    assert _decode(WedgeDecoder(), _keys("3220338716", 100.0)) == ["3220338716"]
    assert _decode(WedgeDecoder(), _keys("1c78f2bf", 100.0)) == ["1C78F2BF"]


def test_key_zero_is_code_11_and_autorepeat_is_ignored():
    d = WedgeDecoder()
    assert d.feed(ecodes.EV_KEY, ecodes.KEY_0, 1, 1.0) is None
    assert d.feed(ecodes.EV_KEY, ecodes.KEY_0, 2, 1.01) is None  # autorepeat
    assert d.feed(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1, 1.02) is None
    assert d.feed(ecodes.EV_KEY, ecodes.KEY_KPENTER, 1, 1.03) == "0"


def test_a_stale_partial_line_is_dropped():
    d = WedgeDecoder()
    lost = _keys("1234", 10.0)[:-2]  # no Enter: a key lost in the middle of a card
    assert _decode(d, lost) == []
    later = _keys("3220338716", 10.0 + 0.1 + PARTIAL_TIMEOUT_S)
    assert _decode(d, later) == ["3220338716"]


def test_enter_alone_gives_no_line():
    assert WedgeDecoder().feed(ecodes.EV_KEY, ecodes.KEY_ENTER, 1, 1.0) is None


def test_debounce_one_event_per_presentation_for_a_resting_card():
    d = Debouncer(hold_s=1.5)
    # a card resting on a PN532 read every 0.3 s for 10 s, with a missed poll now and then
    events = [d.offer(UID, 100.0 + 0.3 * i) for i in range(34) if i % 17 != 5]
    assert events.count(True) == 1 and events[0]


def test_debounce_same_card_again_after_absence_of_hold():
    d = Debouncer(hold_s=1.5)
    assert d.offer(UID, 0.0)
    assert not d.offer(UID, 1.4)
    assert not d.offer(UID, 2.8)  # each sighting restarts the hold
    assert d.offer(UID, 4.3)


def test_debounce_another_card_at_once():
    d = Debouncer(hold_s=3.0)
    assert d.offer(UID, 0.0)
    assert d.offer(bytes.fromhex("04C43BC2"), 0.5)
    assert d.offer(UID, 1.0)


def test_wedge_hold_is_three_seconds_after_last_read():
    d = Debouncer(hold_s=3.0)
    assert d.offer(UID, 0.0)
    assert not d.offer(UID, 2.9)
    assert d.offer(UID, 5.95)
