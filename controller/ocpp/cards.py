"""A card at a connector, and a RemoteStartTransaction authorised like one.

A card stops the session it started (no Authorize), or one a card of its group started (same
parentIdTag, OCPP 1.6 §3.10); else it is decided by `LocalAuth` (list, cache, Authorize, the
offline rules) and, where a reservation holds the connector, by the reservation too.
"""

from __future__ import annotations

import logging
from typing import Any

from controller.auth.model import same_tag
from controller.ocpp.auth_flow import LocalAuth
from controller.ocpp.core import Core
from controller.ocpp.tx_flow import TransactionFlow
from controller.station import Authorization, StopReason

log = logging.getLogger(__name__)


class Cards:
    def __init__(self, core: Core, flow: TransactionFlow, auth: LocalAuth) -> None:
        self._core = core
        self._flow = flow
        self._auth = auth

    def group_of(self, id_tag: str) -> str | None:
        """The tag's parentIdTag as the list or the cache knows it."""
        info = self._auth.local(id_tag)
        return None if info is None else info.parent_id_tag

    def reservation_admits(self, connector_id: int, id_tag: str) -> bool:
        auth = Authorization(id_tag, None, 0.0, self.group_of(id_tag))
        return self._core.reservations.may_start(connector_id, auth)

    async def present(self, connector_id: int, id_tag: str) -> bool:
        """A local card or button: stops the session it (or a card of its group) started,
        else authorises a new one."""
        c = self._core
        tx = c.book.get(connector_id)
        if tx is not None:
            if not same_tag(tx.id_tag, id_tag):
                decision = await self._auth.authorize(id_tag)
                parent = decision.info.parent_id_tag if decision.info else None
                started_by = tx.parent_id_tag or self.group_of(tx.id_tag)
                if not decision.accepted or not same_tag(parent, started_by):
                    return False
            now_open = c.book.get(connector_id)
            if now_open is None or now_open.tx_key != tx.tx_key:
                return False  # ended (or confirmed: a new record) while the CSMS was asked
            self._flow.stop(connector_id, StopReason.LOCAL, id_tag)
            return True
        decision = await self._auth.authorize(id_tag)
        if not decision.accepted:
            return False
        parent = decision.info.parent_id_tag if decision.info else None
        if not c.reservations.may_start(connector_id, Authorization(id_tag, None, 0.0, parent)):
            log.info("connector %d is reserved for another idTag: %s refused", connector_id, id_tag)
            return False
        self._flow.authorize(connector_id, id_tag, None, parent)
        return True

    async def authorize_remote(
        self, connector_id: int, id_tag: str, profile: dict[str, Any] | None
    ) -> None:
        """A RemoteStartTransaction with AuthorizeRemoteTxRequests: authorised like a card."""
        decision = await self._auth.authorize(id_tag)
        if decision.accepted:
            parent = decision.info.parent_id_tag if decision.info else None
            self._flow.authorize(connector_id, id_tag, profile, parent)
