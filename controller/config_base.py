"""What every configuration section shares, and the names of the built-in parts.

Kept apart from `controller.config` so that the hardware sections (`config_hw`) and the
service's own sections can both build on it. A section is a frozen attrs class; its fields
carry their bounds (`Range`) and rules (`Check`) in `Annotated`, which `controller.plain_data`
enforces when a file or the environment is read. Rules between fields live in the section's
`__attrs_post_init__` and raise ValueError with the text a person reads.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from controller.plain_data import Check as Check
from controller.plain_data import Range as Range

DriverName = Literal["sim", "sysfs_pwm", "gpiozero_pwm", "modbus"]
MeterName = Literal["none", "sim", "sdm630", "sdm120", "sdm72", "abb_b23"]
BoardName = Literal["evse_wb", "evse_din", "heidelberg", "openwb_satellit", "generic"]
ReaderName = Literal["hid", "pn532", "rc522", "sim"]

# Every section: frozen (one effective configuration, never changed behind a reader's back) and
# keyword-only (a section is always written by key, as in the file).
section = attrs.frozen(kw_only=True)


class SecretStr:
    """A password: compared and used as text, never shown in a repr, a log line or a dump."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret(value: Any, _: Any) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if not isinstance(value, str):
        raise TypeError(f"must be text (in quotes), not {type(value).__name__}")
    return SecretStr(value)
