"""The exceptions `hw` raises: no driver lets a bare `OSError` escape.

HardwareError
├── DriverUnavailable (+ RuntimeError)   device missing or not permitted; the message names the fix
├── DriverIOError (+ OSError)            a read or write failed; retrying may help
│   └── DriverTimeout (+ TimeoutError)   the device did not answer in time
└── DriverFault (+ RuntimeError)         the hardware reports a fault; go to the safe state
"""

from __future__ import annotations


class HardwareError(Exception):
    """Root of every error raised by `hw`."""


class DriverUnavailable(HardwareError, RuntimeError):
    """The configured device cannot be opened; the message says how to fix it."""


class DriverIOError(HardwareError, OSError):
    """A transient input/output failure talking to a device."""


class DriverTimeout(DriverIOError, TimeoutError):
    """The device did not answer within its deadline."""


class DriverFault(HardwareError, RuntimeError):
    """The hardware reports a fault condition (diode check, stuck contactor, board error)."""
