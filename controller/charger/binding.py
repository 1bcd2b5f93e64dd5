"""Which of the many caps on a connector is the one that binds, so a person can be told why.

The control loop takes the minimum of several limits; the dashboard and `status` say which one
won, because "16 A" alone does not tell anyone whether to call the back office or the electrician.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class LimitSource(StrEnum):
    PROFILE = "profile"  # a smart-charging profile (see the limit's source for which)
    LOCAL_CAP = "local_cap"  # set on the charger's own page
    RATING = "rating"  # the connector's configured maximum
    DRIVER = "driver"  # what the EVSE hardware can offer
    CABLE = "cable"  # the cable's rating read from the proximity pilot
    MAIN_FUSE = "main_fuse"  # the main-fuse guard (see the connector's fuse_limit for which phase)
    SUPPLY_SHARE = "supply_share"  # this connector's share of the station supply
    NO_TRANSACTION = "no_transaction"  # nothing is offered without an authorised session
    INOPERATIVE = "inoperative"  # ChangeAvailability Inoperative
    FAULT = "fault"  # the hardware reports a fault
    # MaxEnergyOnInvalidId spent in a session whose idTag the central system refused
    INVALID_ID_ENERGY = "invalid_id_energy"


def binding(caps: Sequence[tuple[float, LimitSource]]) -> tuple[float, LimitSource]:
    """The smallest cap; on a tie the earlier one, so list the most explanatory first."""
    best = caps[0]
    for cap in caps[1:]:
        if cap[0] < best[0]:
            best = cap
    return best
