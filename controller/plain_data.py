"""Plain data (TOML, JSON, environment text) into frozen attrs records, strictly, with every
mistake reported by the key that holds it.

cattrs does the structuring; this module adds what a configuration needs on top: numbers that
must be finite and in range (`Range`), a field's own rule (`Check`), a choice that names the
allowed values, no silent `5.5 -> 5` or `true -> 1`, and the errors as (key, message) pairs
rather than an exception tree. It replaced pydantic, whose import and schema building cost the
service about 11 MB of its 50 MB budget on a Pi.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn

Key = tuple[str | int, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class Range:
    """Bounds of a number, or of the length of a text or list."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None

    def check(self, value: Any) -> None:
        if isinstance(value, int | float):
            if self.ge is not None and value < self.ge:
                raise ValueError(f"must be at least {self.ge:g}")
            if self.gt is not None and value <= self.gt:
                raise ValueError(f"must be greater than {self.gt:g}")
            if self.le is not None and value > self.le:
                raise ValueError(f"must be at most {self.le:g}")
            return
        n = len(value)
        unit = "characters" if isinstance(value, str) else "entries"
        if self.min_length == 1 and n == 0:
            raise ValueError("must not be empty")
        if self.min_length is not None and n < self.min_length:
            raise ValueError(f"must have at least {self.min_length} {unit}")
        if self.max_length is not None and n > self.max_length:
            raise ValueError(f"must have at most {self.max_length} {unit}")


@dataclass(frozen=True)
class Check:
    """A field's own rule: returns the value to keep (normalised) or raises ValueError."""

    rule: Callable[[Any], Any]


@dataclass(frozen=True)
class DataError:
    key: Key
    message: str
    unknown_key: bool = False


class InvalidData(Exception):
    """One or more values could not be used; `errors` names each by its key."""

    def __init__(self, errors: list[DataError]) -> None:
        super().__init__("; ".join(f"{dotted(e.key)}: {e.message}" for e in errors))
        self.errors = errors


def dotted(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _shown(value: Any) -> str:
    return repr(value.value if isinstance(value, enum.Enum) else value)


def _one_of(choices: list[Any]) -> str:
    shown = [_shown(c) for c in choices]
    if len(shown) == 1:
        return f"must be {shown[0]}"
    return f"must be one of {', '.join(shown[:-1])} or {shown[-1]}"


def _float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"must be a number, not {type(value).__name__}")
    try:
        out = float(value)
    except ValueError:
        raise ValueError(f"must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise ValueError("must be a finite number")
    return out


def _int(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("must be a whole number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(f"must be a whole number, not {value!r}")


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"must be true or false, not {value!r}")


def _str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be text (in quotes), not {type(value).__name__}")
    return value


def _path(value: Any, _: Any) -> Path:
    if isinstance(value, Path):
        return value
    return Path(_str(value, None))


def _aware_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        out = value
    else:
        try:
            out = datetime.fromisoformat(_str(value, None))
        except ValueError:
            raise ValueError(f"must be an ISO 8601 time, not {value!r}") from None
    if out.tzinfo is None:
        raise ValueError("must carry its time zone (e.g. Z)")
    return out


def _literal_hook(tp: Any) -> Callable[[Any, Any], Any]:
    choices = list(get_args(tp))

    def hook(value: Any, _: Any) -> Any:
        for c in choices:
            if value == c and type(value) is type(c):
                return c
            if isinstance(value, str) and not isinstance(c, str) and value.strip() == str(c):
                return c  # `CHARGECTL_CONNECTOR__PHASES=1` arrives as text
        raise ValueError(_one_of(choices))

    return hook


def _enum(value: Any, tp: type[enum.Enum]) -> Any:
    if isinstance(value, tp):
        return value
    try:
        return tp(value)
    except ValueError:
        raise ValueError(_one_of(list(tp))) from None


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _is_annotated(tp: Any) -> bool:
    return get_origin(tp) is Annotated


def make_converter(*, forbid_extra_keys: bool = True) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys)
    for tp, hook in (
        (float, _float),
        (int, _int),
        (bool, _bool),
        (str, _str),
        (Path, _path),
        (datetime, _aware_datetime),
    ):
        conv.register_structure_hook(tp, hook)
    conv.register_structure_hook_factory(_is_literal, _literal_hook)
    for kind in (enum.Enum, enum.StrEnum, enum.IntEnum):  # the last two before str and int
        conv.register_structure_hook(kind, _enum)

    def annotated(tp: Any) -> Callable[[Any, Any], Any]:
        base, *rules = get_args(tp)
        inner = conv.get_structure_hook(base)

        def hook(value: Any, _: Any) -> Any:
            out = inner(value, base)
            for rule in rules:
                if isinstance(rule, Range):
                    rule.check(out)
                elif isinstance(rule, Check):
                    out = rule.rule(out)
            return out

        return hook

    conv.register_structure_hook_factory(_is_annotated, annotated)

    def record(tp: Any) -> Callable[[Any, Any], Any]:
        generated = make_dict_structure_fn(tp, conv, _cattrs_forbid_extra_keys=forbid_extra_keys)

        def hook(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"must be a table, not {type(value).__name__}")
            return generated(value, tp)

        return hook

    conv.register_structure_hook_factory(attrs.has, record)
    conv.register_unstructure_hook(Path, str)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    return conv


def _walk(exc: BaseException, key: Key) -> Iterator[DataError]:
    if isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields):
            yield DataError((*key, name), "unknown key", unknown_key=True)
    elif isinstance(exc, IterableValidationError):
        items, others = exc.group_exceptions()
        for inner, item in items:
            yield from _walk(inner, (*key, item.index))
        for other in others:
            yield from _walk(other, key)
    elif isinstance(exc, cattrs.ClassValidationError):
        fields, others = exc.group_exceptions()
        for inner, attribute in fields:
            yield from _walk(inner, (*key, attribute.name))
        for own in others:  # raised by the record itself: a rule between its fields
            yield from _walk(own, key)
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            yield from _walk(sub, key)
    elif isinstance(exc, KeyError) and key:
        yield DataError(key, "is required")
    elif isinstance(exc, cattrs.StructureHandlerNotFoundError):
        yield DataError(key, "has a type this reader cannot use")
    else:
        yield DataError(key, str(exc) or type(exc).__name__)


def structure(conv: cattrs.Converter, data: Any, cls: type[T]) -> T:
    """`data` as a `cls`, or InvalidData naming every wrong key."""
    try:
        return conv.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        errors = list(_walk(exc, ()))
        raise InvalidData(errors) from None


def value_at(data: Any, key: Key) -> tuple[bool, Any]:
    """(found, value) of `key` in plain data."""
    for part in key:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False, None
        elif not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data
