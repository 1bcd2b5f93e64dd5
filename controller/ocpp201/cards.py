"""A card at a connector, and a RequestStartTransaction authorised like one (AuthCtrlr
AuthorizeRemoteStart), decided by `authorization.Auth201`.

A card stops the transaction it started, or one a card of its group started (the same
groupIdToken, C09): the other card is authorised first (list, cache or Authorize), and its
group compared with the starter's (kept at the start, else what the list or cache says).
"""

from __future__ import annotations

import logging

from controller.auth.model import same_tag
from controller.ocpp201.authorization import Auth201, token_tag
from controller.ocpp201.context import Context
from controller.ocpp201.flow import Flow
from controller.ocpp201.tx_events import StartCause
from controller.station import Authorization, StopReason

log = logging.getLogger(__name__)

CARD_TYPE = "ISO14443"  # what the station's reader reads


class Cards:
    def __init__(self, ctx: Context, flow: Flow, auth: Auth201) -> None:
        self._ctx = ctx
        self._flow = flow
        self.auth = auth

    async def present(self, connector_id: int, id_tag: str) -> bool:
        c = self._ctx
        token = {"id_token": id_tag, "type": CARD_TYPE}
        tx = c.transactions.get(connector_id)
        if tx is not None:
            if tx.id_tag.casefold() != id_tag.casefold():
                decision = await self.auth.authorize(token)
                group = decision.info.parent_id_tag if decision.info else None
                started_by = tx.parent_id_tag or self.auth.group_of(f"{CARD_TYPE}:{tx.id_tag}")
                if not decision.accepted or not same_tag(group, started_by):
                    log.info("%s may not stop the transaction on EVSE %d", id_tag, connector_id)
                    return False
            now_open = c.transactions.get(connector_id)
            if now_open is None or now_open.tx_key != tx.tx_key:
                return False  # it ended while the CSMS was asked
            self._flow.stop(connector_id, StopReason.LOCAL)
            return True
        decision = await self.auth.authorize(token)
        if not decision.accepted:
            return False
        group = decision.info.parent_id_tag if decision.info else None
        if not c.reservations.may_start(connector_id, Authorization(id_tag, None, 0.0, group)):
            log.info("EVSE %d is reserved for another idToken: %s refused", connector_id, id_tag)
            return False
        self._flow.authorize(connector_id, StartCause(token, None), None, group)
        return True

    async def authorize_remote(
        self, connector_id: int, cause: StartCause, profile: object | None
    ) -> None:
        """A remote start that AuthorizeRemoteStart makes wait for the token's verdict."""
        decision = await self.auth.authorize(cause.id_token)
        if decision.accepted:
            group = decision.info.parent_id_tag if decision.info else None
            self._flow.authorize(connector_id, cause, profile, group)
        else:
            log.info("remote start for %s refused", token_tag(cause.id_token))
