"""Which RFID reader a `[rfid]` or `[connector.rfid]` section names: one table, like the
connector drivers' (`controller.drivers.DRIVERS`). Readers are imported lazily: a charger
without a keyboard-wedge reader never needs evdev."""

from __future__ import annotations

from collections.abc import Callable

from controller.config import RfidSection, Settings
from hw.base import TokenReader

ReaderBuilder = Callable[[RfidSection], TokenReader]


def _hid_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.hid import HidWedgeReader

    return HidWedgeReader(r.path, r.wedge_format, poll_s=max(r.poll_interval_s, 0.5))


def _pn532_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.pn532 import Pn532Reader

    return Pn532Reader(r.port, r.baudrate, poll_s=r.poll_interval_s)


def _rc522_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.rc522 import Rc522Reader

    return Rc522Reader(r.spi_port, r.spi_device, r.reset_gpio, poll_s=r.poll_interval_s)


def _sim_reader(r: RfidSection) -> TokenReader:
    from hw.rfid.sim import SimReader

    return SimReader(r.poll_interval_s)


READERS: dict[str, ReaderBuilder] = {
    "hid": _hid_reader,
    "pn532": _pn532_reader,
    "rc522": _rc522_reader,
    "sim": _sim_reader,
}


def build_readers(settings: Settings) -> dict[int | None, TokenReader]:
    """Every configured reader by the connector it serves; None is the station's reader.
    Nothing is opened here: the service starts each reader and retries it if it is missing."""
    wanted: dict[int | None, RfidSection] = {
        c.id: c.rfid for c in settings.connector if c.rfid is not None
    }
    if settings.rfid is not None:
        wanted[None] = settings.rfid
    return {where: READERS[r.type](r) for where, r in wanted.items()}
