"""Which CSMS requests reach their handler: the boot gate and the feature profiles.

While the CSMS has Rejected our boot we answer nothing at all (OCPP 1.6 §4.2.1: no CALLRESULT,
and a CALLERROR is an answer too). A request of a profile that is not enabled, or one OCPP 1.6
knows that we have no handler for, is `NotSupported`; an action OCPP 1.6 does not know is
`NotImplemented` (OCPP-J §4.2.3, `feature_profiles.refusal`). A malformed frame never gets
this far: it has its CALLERROR from `frames` already, Rejected or not.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from controller.ocpp.feature_profiles import refusal
from controller.ocpp.frames import Screened, call_error
from controller.ocpp.ports import SessionHost

log = logging.getLogger(__name__)


class _Routes(Protocol):
    route_map: dict[str, Any]

    async def _send(self, message: str) -> None: ...


async def gate(call: Screened, host: SessionHost, session: _Routes) -> bool:
    """Whether the CALL goes on to its handler; if not, its CALLERROR (if any) is sent."""
    if call.parsed is None:
        return True
    msg_id, action = call.parsed[1], call.parsed[2]
    if not host.answers_calls():
        host.frame_counted(False)
        log.warning("boot Rejected: %.40s from the CSMS left unanswered", action)
        return False
    code = refusal(action, host.feature_profiles, action in session.route_map)
    if code is None:
        return True
    host.frame_counted(False)
    log.warning("CSMS request %.40s answered %s", action, code)
    text = f"{action} is not supported here" if code == "NotSupported" else "unknown action"
    await session._send(call_error(msg_id, code, text))
    return False
