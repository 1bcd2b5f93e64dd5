"""What every configuration section shares, and the names of the built-in parts.

Kept apart from `controller.config` so that the hardware sections (`config_hw`) and the
service's own sections can both build on it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

DriverName = Literal["sim", "sysfs_pwm", "gpiozero_pwm", "modbus"]
MeterName = Literal["none", "sim", "sdm630", "sdm120", "sdm72", "abb_b23"]
BoardName = Literal["evse_wb", "evse_din", "heidelberg", "openwb_satellit", "generic"]
ReaderName = Literal["hid", "pn532", "rc522", "sim"]


class Section(BaseModel):
    # allow_inf_nan=False: `inf` or `nan` in a timer or a current is always a mistake, and one
    # that would otherwise pass every `ge=` bound and only fail deep inside `run`.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
