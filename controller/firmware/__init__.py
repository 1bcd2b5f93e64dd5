"""Firmware management the Pi way: the charger's "firmware" is the installed chargectl.

A release (a wheel or sdist of chargectl) is downloaded, verified, installed into a new virtual
environment next to the running one and checked with `chargectl check-config` against the live
configuration. The switch itself (the `/opt/chargectl/venv` symlink) and the rollback of a
release that never reaches an accepted boot happen at the next start, in the unit's
`ExecStartPre` (systemd/chargectl-boot-check), so a release that cannot even start Python is
still rolled back. Nothing here speaks OCPP: the protocol adapters report `FirmwareStatus`.
"""

from controller.firmware.model import FirmwareStatus, UpdateRequest

__all__ = ["FirmwareStatus", "UpdateRequest"]
