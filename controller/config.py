"""The service configuration: one TOML file, validated once at start.

A mistake in the file must stop the service with a message that names the key, the value and
what is allowed, and exit status 78 (EX_CONFIG) so systemd does not restart-loop on it
(`RestartPreventExitStatus=78`). `CHARGECTL_*` environment variables override the file, with
`__` between nested keys (`CHARGECTL_OCPP__URL=...`); a list such as `connector` takes JSON.
Secrets (the OCPP password) are `SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from attrs import field, frozen

from controller.config_base import BoardName as BoardName
from controller.config_base import Check, Range, SecretStr, secret
from controller.config_base import DriverName as DriverName
from controller.config_base import MeterName as MeterName
from controller.config_base import ReaderName as ReaderName
from controller.config_env import BadVariable, environment_values, merged
from controller.config_hw import DirectPilotSection as DirectPilotSection
from controller.config_hw import GridMeterSection as GridMeterSection
from controller.config_hw import MeterSection as MeterSection
from controller.config_hw import ModbusSection as ModbusSection
from controller.config_hw import PhaseSwitchSection as PhaseSwitchSection
from controller.config_hw import PilotBandsSection as PilotBandsSection
from controller.config_hw import PilotSection as PilotSection
from controller.config_hw import RfidSection as RfidSection
from controller.config_ocpp import OcppSection as OcppSection
from controller.config_text import describe_errors
from controller.config_text import mask_url as mask_url
from controller.plain_data import InvalidData, make_converter, structure
from hw.sim import SimulatorSettings

EX_CONFIG = 78

# The simulator's own defaults are the only ones: its section reads them from here.
_SIM = SimulatorSettings()


class ConfigError(Exception):
    """The configuration is unusable; the message is meant for the person who wrote it."""


def _rotation(v: str) -> str:
    from controller.charger.fuse_guard import parse_rotation

    parse_rotation(v)  # its ValueError says how to write it
    return v.strip().upper()


def _host_port(v: str) -> str:
    host, sep, port = v.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
    return v


def _long_enough(v: SecretStr) -> SecretStr:
    if len(v.get_secret_value()) < 8:
        raise ValueError("use at least 8 characters")
    return v


@frozen(kw_only=True)
class StateSection:
    dir: Path = Path("/var/lib/chargectl")


@frozen(kw_only=True)
class StationSection:
    voltage_v: Annotated[float, Range(ge=100, le=480)] = 230.0
    # supply limit shared by all connectors (main fuse)
    max_current_a: Annotated[float, Range(gt=0, le=1000)] | None = None
    # per-connector limit while a damaged state file may have lost a supply cap
    fallback_current_a: Annotated[float, Range(ge=0, le=80)] = 6.0
    # main fuse per phase, guarded with [station.grid_meter]
    main_fuse_a: Annotated[float, Range(gt=0, le=1000)] | None = None
    grid_meter: GridMeterSection = field(factory=GridMeterSection)

    def __attrs_post_init__(self) -> None:
        if self.grid_meter.type != "none":
            if self.main_fuse_a is None:
                raise ValueError("a [station.grid_meter] needs station.main_fuse_a")
            if self.grid_meter.margin_a >= self.main_fuse_a:
                raise ValueError("grid_meter.margin_a must be smaller than main_fuse_a")


@frozen(kw_only=True)
class ConnectorSection:
    id: Annotated[int, Range(ge=1, le=16)]
    driver: DriverName = "sim"
    max_current_a: Annotated[float, Range(ge=6, le=80)] = 32.0
    phases: Literal[1, 3] = 3
    # grid phases of the car's L1, L2, L3 (L2L3L1), or the one phase (L2); unset: L1L2L3
    phase_rotation: Annotated[str, Check(_rotation)] | None = None
    pilot: DirectPilotSection = field(factory=DirectPilotSection)
    modbus: ModbusSection | None = None
    meter: MeterSection | None = None
    rfid: RfidSection | None = None
    phase_switch: PhaseSwitchSection | None = None

    @property
    def rotation(self) -> str:
        return self.phase_rotation or "L1L2L3"

    def __attrs_post_init__(self) -> None:
        if self.driver == "modbus" and self.modbus is None:
            raise ValueError("driver = 'modbus' needs a [connector.modbus] table")
        if self.driver == "gpiozero_pwm" and self.pilot.pwm_gpio is None:
            raise ValueError("driver = 'gpiozero_pwm' needs pilot.pwm_gpio")
        ps = self.phase_switch
        if ps is not None:
            if self.phases != 3:
                raise ValueError("a phase switch needs a three-phase connector (phases = 3)")
            if self.driver == "modbus" and self.modbus is not None:
                _modbus_can_switch(self.modbus)
            if self.driver in ("sysfs_pwm", "gpiozero_pwm") and ps.gpio is None:
                raise ValueError("[connector.phase_switch] needs gpio (the relay's GPIO)")
        if self.phases == 3 and len(self.rotation) == 2:
            raise ValueError(
                f"a three-phase connector needs all three phases in phase_rotation, "
                f"e.g. {self.rotation}L3L1 rather than {self.rotation}"
            )


def _modbus_can_switch(m: ModbusSection) -> None:
    """A phase switch on a Modbus connector needs the board's own relay (`hw.modbus_phase`)."""
    from controller.modbus_lines import board_register_map
    from hw.modbus_evse import PHASE_CAPABLE_PRESETS

    if board_register_map(m).phase_relay is None:
        can = ", ".join(repr(b) for b in PHASE_CAPABLE_PRESETS) or "none of the presets"
        raise ValueError(
            f"board {m.board!r} has no phase relay to switch with (boards that have one: "
            f"{can}; a 'generic' board declares its relay with modbus.phase_relay_register): "
            "remove [connector.phase_switch]"
        )


@frozen(kw_only=True)
class SimulatorSection:
    """The simulated car (`hw.sim.SimulatorSettings`, whose defaults these are; phases and
    voltage come from the connector and the station)."""

    plugged_in: bool = _SIM.plugged_in
    ev_max_current_a: Annotated[float, Range(ge=0, le=80)] = _SIM.ev_max_current_a
    ev_response_s: Annotated[float, Range(ge=0, le=30)] = _SIM.ev_response_s
    ev_sleep_after_pause_s: Annotated[float, Range(ge=0)] = _SIM.ev_sleep_after_pause_s
    ev_ignores_pause: bool = _SIM.ev_ignores_pause


@frozen(kw_only=True)
class WebSection:
    """The dashboard on the charger itself; listening beyond loopback needs a password."""

    enabled: bool = True
    # host:port; port 0 picks a free one
    listen: Annotated[str, Check(_host_port)] = "127.0.0.1:8080"
    password: Annotated[SecretStr, Check(_long_enough)] | None = None

    def __attrs_post_init__(self) -> None:
        host = self.listen.rpartition(":")[0].strip("[]")
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        if self.enabled and not loopback and self.password is None:
            raise ValueError(
                f"listening on {host} lets anyone on the network see the charger: "
                "set [web] password, or listen on 127.0.0.1"
            )


@frozen(kw_only=True)
class Settings:
    """Everything `chargectl run` needs; see systemd/config.example.toml."""

    ocpp: OcppSection = field(factory=OcppSection)
    state: StateSection = field(factory=StateSection)
    station: StationSection = field(factory=StationSection)
    pilot: PilotSection = field(factory=PilotSection)
    connector: Annotated[list[ConnectorSection], Range(min_length=1, max_length=16)] = field(
        factory=lambda: [ConnectorSection(id=1)]
    )
    simulator: SimulatorSection = field(factory=SimulatorSection)
    web: WebSection = field(factory=WebSection)
    # a reader for the whole station
    rfid: RfidSection | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def __attrs_post_init__(self) -> None:
        self._connector_ids()
        self._one_reader_per_device()
        self._modbus_lines()

    def _connector_ids(self) -> None:
        ids = [c.id for c in self.connector]
        if sorted(ids) != list(range(1, len(ids) + 1)):
            raise ValueError(
                f"connector ids must be 1..{len(ids)} without gaps or repeats (OCPP numbers "
                f"connectors from 1), got {ids}"
            )

    def _one_reader_per_device(self) -> None:
        seen: dict[str, str] = {
            f"spi{c.pilot.adc_spi_port}.{c.pilot.adc_spi_device}": f"connector[{c.id}].pilot ADC"
            for c in self.connector
            if c.driver in ("sysfs_pwm", "gpiozero_pwm")
        }
        readers = [("rfid", self.rfid)] + [
            (f"connector[{c.id}].rfid", c.rfid) for c in self.connector
        ]
        for where, r in readers:
            if r is None or r.type == "sim":
                continue
            if r.device in seen:
                raise ValueError(
                    f"{where} and {seen[r.device]} both use {r.device}: one reader, one table"
                )
            seen[r.device] = where

    def _modbus_lines(self) -> None:
        from controller.modbus_lines import line_budgets
        from hw.modbus_budget import refuse_saturated

        refuse_saturated(line_budgets(self))


_CONVERTER = make_converter()
_CONVERTER.register_structure_hook(SecretStr, secret)
_CONVERTER.register_unstructure_hook(SecretStr, str)


def make_settings(**values: Any) -> Settings:
    """Settings from plain values (tables as dicts), checked as a file is; no environment."""
    try:
        return structure(_CONVERTER, values, Settings)
    except InvalidData as exc:
        raise ConfigError(describe_errors(exc.errors, values, "settings")) from None


def read_file(p: Path) -> dict[str, Any]:
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"{p}: no such file. Copy systemd/config.example.toml there, or pass --config FILE."
        ) from None
    except PermissionError:
        raise ConfigError(
            f"{p}: permission denied. The service user must be able to read it "
            f"(chgrp evse {p}; chmod 0640 {p})."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None


def load_settings(path: str | os.PathLike[str] | None) -> Settings:
    """Read, lay the environment over it and check; raise ConfigError for the user to read."""
    data = {} if path is None else read_file(Path(path))
    source = "environment" if path is None else str(path)
    try:
        data = merged(data, environment_values(Settings, os.environ))
    except BadVariable as exc:
        raise ConfigError(f"{source}: invalid configuration\n  {exc}") from None
    try:
        return structure(_CONVERTER, data, Settings)
    except InvalidData as exc:
        raise ConfigError(describe_errors(exc.errors, data, source)) from None


def plain(settings: Any) -> Any:
    """A section (or the settings) as plain data: dicts, lists, text and numbers."""
    return _CONVERTER.unstructure(settings)


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets replaced by '****'."""
    data: dict[str, Any] = plain(settings)
    if settings.ocpp.password is not None:
        data["ocpp"]["password"] = "****"
    data["ocpp"]["url"] = mask_url(settings.ocpp.url)
    return data
