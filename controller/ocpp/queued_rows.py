"""Whether a queued row can still be sent: the message built from it, or why not.

A row that cannot be sent as it stands would hold the queue forever, or end every session
with an exception and so reconnect forever; the queue sets such a row aside (`OcppDb.peek`).
Rows written by this process are known to be good; the schema is checked only for rows found
on disk at start (another version's, or a damaged file's).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import MessageType, get_validator

# The request classes of each OCPP version a queue may hold, imported when first needed: a
# 1.6 charger does not carry 2.0.1's classes (about 3 MB) in memory.
_CALL_MODULES = {"1.6": "ocpp.v16.call", "2.0.1": "ocpp.v201.call"}

# Filled in from the transaction's record when the message is sent.
_FILLED_AT_SEND = frozenset({"transaction_id"})


def decode_row(
    action: object, raw: object, check_schema: bool = True, version: str = "1.6"
) -> tuple[dict[str, Any] | None, str]:
    """The row's payload if the message can be built from it, else why not."""
    calls = importlib.import_module(_CALL_MODULES[version])
    request = getattr(calls, action, None) if isinstance(action, str) else None
    if not isinstance(request, type) or not dataclasses.is_dataclass(request):
        return None, f"unknown action {action!r}"
    try:
        payload = json.loads(raw) if isinstance(raw, str | bytes) else None
    except ValueError as exc:
        return None, f"payload is not JSON ({exc})"
    if not isinstance(payload, dict):
        return None, "payload is not a JSON object"
    fields = dataclasses.fields(request)
    names = {f.name for f in fields}
    unknown = sorted(set(payload) - names)
    if unknown:
        return None, f"fields {action} does not have: {', '.join(unknown)}"
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(payload) - _FILLED_AT_SEND)
    if missing:
        return None, f"missing fields: {', '.join(missing)}"
    problem = _schema_problem(request, payload, required, version) if check_schema else ""
    if problem:
        return None, problem
    return payload, ""


def _schema_problem(
    request: type, payload: dict[str, Any], required: set[str], version: str
) -> str:
    """What the OCPP schema of `version` says is wrong with the message, or "" if nothing.

    Checked for rows found on disk at start: one that can never become valid is set aside
    here, instead of being refused by the CSMS on every retry while the queue waits.
    """
    probe = dict(payload)
    for name in _FILLED_AT_SEND & required:
        probe.setdefault(name, 0)
    try:
        wire = remove_nones(snake_to_camel_case(serialize_as_dict(request(**probe))))
        validator = get_validator(MessageType.Call, request.__name__, version)
    except (OSError, ValueError):
        return ""  # no schema to check against: the CSMS will say
    except TypeError as exc:
        return f"cannot build the message: {exc}"
    error = next(iter(validator.iter_errors(wire)), None)
    if error is None:
        return ""
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    return f"not valid OCPP {version} at {where}: {error.message[:200]}"
