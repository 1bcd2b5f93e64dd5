"""The pure decisions behind meterStart, meterStop, retries and the unconfirmed-start pause."""

import math

from controller.ocpp.transactions import (
    ID_MAX,
    MeterStartSource,
    choose_meter_start,
    good_energy_wh,
    meter_stop_wh,
    retry_delay_s,
    storable_id,
)
from controller.ocpp.tx_watch import NO_METER_TEXT, UNCONFIRMED_TEXT, TransactionWatch
from hw.base import MeterSample


def _sample(energy_wh):
    return MeterSample(energy_wh, 0.0, (0.0, 0.0, 0.0), (230.0, 230.0, 230.0))


def test_only_finite_non_negative_registers_are_readings():
    assert good_energy_wh(_sample(5.0)) == 5.0
    assert good_energy_wh(_sample(0.0)) == 0.0  # a new meter really reads 0
    for bad in (math.nan, math.inf, -math.inf, -1.0):
        assert good_energy_wh(_sample(bad)) is None
    assert good_energy_wh(None) is None


def test_meter_start_prefers_a_reading_then_the_persisted_register_never_zero():
    assert choose_meter_start(10.0, 5.0, False).energy_wh == 10.0
    assert choose_meter_start(None, 5.0, False).source is MeterStartSource.NONE
    waited = choose_meter_start(None, 5.0, True)
    assert (waited.energy_wh, waited.source) == (5.0, MeterStartSource.PERSISTED)
    assert choose_meter_start(None, None, True).energy_wh is None


def test_meter_stop_never_below_what_was_reported():
    assert meter_stop_wh(18.6, 86.6, 0.0) == 86.6  # a meter that restarted at 0
    assert meter_stop_wh(None, None, 1234.0) == 1234.0
    assert meter_stop_wh(100.0, 86.6, 0.0) == 100.0


def test_retries_grow_then_stay_at_the_longest_interval():
    assert [retry_delay_s(n, 3, 30) for n in range(1, 7)] == [30, 60, 90, 90, 90, 90]


def test_storable_ids_are_signed_64_bit_integers():
    assert storable_id(ID_MAX) and storable_id(-(2**63)) and storable_id(1)
    assert not storable_id(2**63) and not storable_id(True) and not storable_id(1.5)


def test_an_unconfirmed_start_pauses_only_online_and_after_the_grace():
    w = TransactionWatch(grace_s=60)
    w.started(1, mono=100.0)
    w.link_up(50.0)
    assert not w.overdue(1, link_up=True, mono=160.0)
    assert w.overdue(1, link_up=True, mono=160.5)
    assert w.reason(1, link_up=True, mono=161.0) == UNCONFIRMED_TEXT
    assert not w.overdue(1, link_up=False, mono=500.0)  # offline: the OCPP offline rules apply
    w.link_up(500.0)  # a reconnect gives the CSMS the grace again
    assert not w.overdue(1, link_up=True, mono=550.0)
    w.confirmed(1)
    assert not w.overdue(1, link_up=True, mono=1000.0)


def test_meter_start_waits_then_says_once_that_there_is_none():
    w = TransactionWatch(grace_s=60, meter_wait_s=5)
    assert w.meter_start(1, None, None, 0.0).energy_wh is None
    assert not w.meter_start(1, None, None, 4.9).newly_missing
    assert w.meter_start(1, None, None, 5.0).newly_missing
    assert not w.meter_start(1, None, None, 6.0).newly_missing
    assert w.reason(1, link_up=True, mono=6.0) == NO_METER_TEXT
    d = w.meter_start(1, 42.0, None, 7.0)
    assert d.energy_wh == 42.0 and w.waiting() == [] and w.reason(1, link_up=True, mono=7) is None
