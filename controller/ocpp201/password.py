"""A01: the CSMS sets a new Basic-auth password (SetVariables of SecurityCtrlr
BasicAuthPassword). The answer goes first, then the station reconnects with the new one
(EVerest #177 reconnected before answering, and the CSMS never heard the Accepted).

The password is kept in the queue's key-value table (ocpp201.sqlite) before the answer
leaves, so a restart uses it too; it outranks `[ocpp] password` from then on. It is WriteOnly:
GetVariables and reports never show it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from controller.ocpp.settings import OcppSettings
from controller.ocpp201.context import Context

log = logging.getLogger(__name__)

COMPONENT, VARIABLE = "SecurityCtrlr", "BasicAuthPassword"
STORE_KEY = "_security.basic_auth_password"
# OCPP 2.0.1 part 2, passwordString: 16 to 40 of these.
_ALLOWED = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{16,40}")


def _refused(info: str) -> dict[str, Any]:
    return {
        "attribute_status": "Rejected",
        "attribute_status_info": {"reason_code": "InvalidValue", "additional_info": info},
    }


class Password:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._changed = False

    @staticmethod
    def owns(item: Mapping[str, Any]) -> bool:
        component = item.get("component") or {}
        variable = item.get("variable") or {}
        return (
            component.get("name") == COMPONENT
            and not component.get("evse")
            and variable.get("name") == VARIABLE
            and not variable.get("instance")
        )

    @staticmethod
    def _echo(item: Mapping[str, Any]) -> dict[str, Any]:
        return {"component": item["component"], "variable": item["variable"]}

    def get_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """WriteOnly: never read back (B06)."""
        return self._echo(item) | _refused("write only")

    def set_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        out = self._echo(item)
        if item.get("attribute_type", "Actual") != "Actual":
            return out | {"attribute_status": "NotSupportedAttributeType"}
        value = str(item.get("attribute_value", ""))
        if not _ALLOWED.fullmatch(value):
            return out | _refused("16 to 40 letters, digits or *-_=:+|@.")
        self._ctx.db.set_config(STORE_KEY, value)
        self._changed = True
        log.info("Basic-auth password changed by the CSMS; reconnecting once answered")
        return out | {"attribute_status": "Accepted"}

    def reconnect_if_changed(self) -> None:
        """After the SetVariables answer is sent: the link reconnects with the new password."""
        if self._changed:
            self._changed = False
            self._ctx.reconnect.set()

    def current(self, settings: OcppSettings) -> OcppSettings:
        """The settings the link connects with: the CSMS's password once it set one."""
        stored = self._ctx.db.config_items().get(STORE_KEY)
        return replace(settings, password=stored) if stored else settings
