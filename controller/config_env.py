"""`CHARGECTL_*` environment variables as configuration values, laid over the file's.

`CHARGECTL_OCPP__URL=wss://...` sets `ocpp.url` (`__` between nested keys, any case); a table or
a list is set whole as JSON (`CHARGECTL_CONNECTOR='[{"id": 1}]'`). A variable whose first part
names no section (`CHARGECTL_ENV_FILE`, `CHARGECTL_SYSFS_ROOT`, the bench's `CHARGECTL_HIL_*`)
is someone else's and is left alone. Values stay text: the converter reads numbers and
booleans from text, so `CHARGECTL_WEB__ENABLED=false` means what it says.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

import attrs

PREFIX = "CHARGECTL_"


class BadVariable(ValueError):
    """A variable that cannot be used; the text names it."""


def _inner(tp: Any) -> Any:
    """The type under `Annotated[...]` and `X | None`."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return tp
            tp = rest[0]
        else:
            return tp


def _field_type(cls: Any, name: str) -> Any | None:
    if not attrs.has(cls):
        return None
    found = attrs.fields_dict(attrs.resolve_types(cls)).get(name)
    return None if found is None else found.type


def _is_whole(tp: Any) -> bool:
    """A table or a list: set as JSON, not as text."""
    tp = _inner(tp)
    return attrs.has(tp) or get_origin(tp) in (list, dict)


def environment_values(settings_cls: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    """The configuration that `environ` sets, as nested plain data."""
    out: dict[str, Any] = {}
    found = []
    for var, value in environ.items():
        if not var.upper().startswith(PREFIX):
            continue
        names = var[len(PREFIX) :].lower().split("__")
        if _field_type(settings_cls, names[0]) is None:
            continue  # not a configuration variable
        found.append((len(names), var, names, value))
    for _, var, names, value in sorted(found):  # whole tables first, their keys over them
        tp: Any = settings_cls
        for depth, name in enumerate(names):
            parent = _inner(tp)
            if not attrs.has(parent):
                where = ".".join(names[:depth])
                raise BadVariable(f"{var}: {where} is set whole, as JSON")
            tp = _field_type(parent, name)
            if tp is None:
                break  # an unknown key: the converter reports it by name
        target = out
        for name in names[:-1]:
            child = target.setdefault(name, {})
            if not isinstance(child, dict):
                raise BadVariable(f"{var}: {'.'.join(names[:-1])} is already set whole")
            target = child
        if tp is not None and _is_whole(tp):
            try:
                target[names[-1]] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise BadVariable(f"{var}: not valid JSON ({exc.msg})") from None
        else:
            target[names[-1]] = value
    return out


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merged(old, value)
        else:
            out[key] = value
    return out
