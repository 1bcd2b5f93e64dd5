from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from controller.charger.sharing import Demand, share_station_limit

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def d(cid, wanted, minutes=0):
    return Demand(cid, wanted, T0 + timedelta(minutes=minutes))


def test_no_station_limit_gives_each_its_own_cap():
    assert share_station_limit(None, [d(1, 16), d(2, 32)]) == {1: 16, 2: 32}


def test_equal_split():
    assert share_station_limit(32, [d(1, 32), d(2, 32, 1)]) == {1: 16.0, 2: 16.0}


def test_unused_share_goes_to_the_others():
    assert share_station_limit(32, [d(1, 10), d(2, 32, 1)]) == {1: 10, 2: 22.0}


def test_share_under_six_amps_pauses_the_connector_that_started_last():
    # 10 A for two cars would be 5 A each: unusable. The later one pauses.
    assert share_station_limit(10, [d(1, 32, 5), d(2, 32, 0)]) == {1: 0.0, 2: 10.0}


def test_connector_that_wants_under_minimum_is_paused_and_takes_nothing():
    assert share_station_limit(20, [d(1, 0), d(2, 32)]) == {1: 0.0, 2: 20.0}


def test_shares_floor_to_a_tenth_of_an_amp():
    assert share_station_limit(20, [d(1, 32), d(2, 32, 1), d(3, 32, 2)]) == {1: 6.6, 2: 6.6, 3: 6.6}


demands = st.lists(st.tuples(st.floats(0, 80), st.integers(0, 1000)), min_size=1, max_size=6).map(
    lambda xs: [d(i + 1, w, m) for i, (w, m) in enumerate(xs)]
)


@given(st.floats(0, 200), demands)
def test_invariants(limit, ds):
    shares = share_station_limit(limit, ds)
    assert set(shares) == {x.connector_id for x in ds}
    assert sum(shares.values()) <= limit + 1e-6
    for x in ds:
        s = shares[x.connector_id]
        assert s == 0.0 or 6.0 <= s <= x.wanted_a + 1e-9
