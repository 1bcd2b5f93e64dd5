"""The CSMS's answers to our CALLs, checked against their OCPP 1.6 schema.

Inline, not on the library's executor thread: an answer is small, and handing it to a thread
costs more than checking it. What we send is not checked at run time (the test suite checks
every message the charger sends); what the CSMS sends always is.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import CallResult, _validate_payload


def check_response(
    action: str | None, message_id: str, parsed: list[Any]
) -> tuple[list[Any], OCPPError | None]:
    """The frame to hand to the library, and the error to raise from `call` if it was invalid
    (then the frame is a CALLERROR, so the library's waiting call ends at once)."""
    if action is None or len(parsed) != 3 or not isinstance(parsed[2], dict):
        return parsed, None
    try:
        _validate_payload(CallResult(message_id, parsed[2], action), "1.6")
    except OCPPError as exc:
        return [4, message_id, "FormatViolation", str(exc.description)[:200], {}], exc
    return parsed, None
