"""Which TxProfile belongs to which transaction: the one piece of transaction state that is the
profile store's own business.

The transactions themselves are owned by the station (`controller.station.TransactionBook`,
persisted once in the OCPP journal); the store is told which one is open where. What it keeps
is each TxProfile's `transactionId`, in the profile's stored body. These pure functions decide
what happens to TxProfiles when the CSMS's id for a transaction becomes known and when the open
transactions are learnt at start-up, so the store only has to write and apply the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from controller.smart_charging.model import InstalledProfile, Purpose, Transaction

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Rebinding:
    """TxProfiles that now name their transaction's id, and those that die (R5, R53)."""

    bound: dict[int, InstalledProfile] = field(default_factory=dict)
    dropped: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.bound or self.dropped)


def tx_profile_ids(profiles: Mapping[int, InstalledProfile], connector_id: int) -> list[int]:
    """The TxProfiles installed on one connector (they die with its transaction, R53)."""
    return [
        pid
        for pid, ip in profiles.items()
        if ip.connector_id == connector_id and ip.profile.purpose is Purpose.TX
    ]


def bind_to_id(
    profiles: Mapping[int, InstalledProfile], connector_id: int, transaction_id: int
) -> Rebinding:
    """The CSMS assigned `transaction_id` to the connector's transaction: TxProfiles accepted
    while the id was unknown either quote it (kept, bound) or another one (dropped)."""
    out = Rebinding()
    for pid in tx_profile_ids(profiles, connector_id):
        ip = profiles[pid]
        quoted = ip.profile.transaction_id
        if quoted is not None and quoted != transaction_id:
            log.warning(
                "dropping TxProfile %d: it names transaction %d, the CSMS assigned %d",
                pid,
                quoted,
                transaction_id,
            )
            out.dropped.append(pid)
        elif quoted is None:
            out.bound[pid] = replace(ip, profile=replace(ip.profile, transaction_id=transaction_id))
    return out


def reconcile(
    profiles: Mapping[int, InstalledProfile],
    open_transactions: Mapping[int, Transaction],
    connector_ids: Collection[int],
) -> Rebinding:
    """At start-up, the stored TxProfiles against the transactions the station restored.

    A TxProfile on a connector with no open transaction outlived it (a stop was committed to
    the journal, the profile file had not yet followed when the power went): it dies, R53. One
    naming another id than the open transaction's dies too. Connectors the station does not
    know are left alone: a configuration mistake must not cost a session its profile.
    """
    out = Rebinding()
    for cid in connector_ids:
        tx = open_transactions.get(cid)
        if tx is None:
            for pid in tx_profile_ids(profiles, cid):
                log.warning("dropping TxProfile %d: connector %d has no open transaction", pid, cid)
                out.dropped.append(pid)
        elif tx.transaction_id is not None:
            step = bind_to_id(profiles, cid, tx.transaction_id)
            out.bound.update(step.bound)
            out.dropped.extend(step.dropped)
    return out
