"""The service configuration: one TOML file, validated once at start.

A mistake in the file must stop the service with a message that names the key, the value and
what is allowed, and exit status 78 (EX_CONFIG) so systemd does not restart-loop on it
(`RestartPreventExitStatus=78`). `CHARGECTL_*` environment variables override the file, with
`__` between nested keys (`CHARGECTL_OCPP__URL=...`); a list such as `connector` takes JSON.
Secrets (the OCPP password) are `SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from controller.config_base import BoardName as BoardName
from controller.config_base import DriverName as DriverName
from controller.config_base import MeterName as MeterName
from controller.config_base import ReaderName as ReaderName
from controller.config_base import Section as _Section
from controller.config_hw import DirectPilotSection as DirectPilotSection
from controller.config_hw import GridMeterSection as GridMeterSection
from controller.config_hw import MeterSection as MeterSection
from controller.config_hw import ModbusSection as ModbusSection
from controller.config_hw import PhaseSwitchSection as PhaseSwitchSection
from controller.config_hw import PilotBandsSection as PilotBandsSection
from controller.config_hw import PilotSection as PilotSection
from controller.config_hw import RfidSection as RfidSection
from hw.sim import SimulatorSettings

EX_CONFIG = 78

# The simulator's own defaults are the only ones: its section reads them from here.
_SIM = SimulatorSettings()


class ConfigError(Exception):
    """The configuration is unusable; the message is meant for the person who wrote it."""


class OcppSection(_Section):
    version: Literal["1.6", "2.0.1"] = "1.6"  # the protocol, and so the websocket subprotocol
    url: str = "ws://127.0.0.1:9000/ocpp"
    charge_point_id: str = Field("CP001", min_length=1, max_length=48)
    password: SecretStr | None = None
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    vendor: str = Field("chargectl", min_length=1, max_length=20)
    model: str = Field("chargectl-pi", min_length=1, max_length=20)
    serial_number: str | None = Field(None, max_length=25)
    free_vend_id_tag: str | None = Field(None, min_length=1, max_length=20)
    resume_transaction_after_power_loss: bool = False
    call_timeout_s: float = Field(30.0, gt=0, le=300)
    max_reconnect_interval_s: float = Field(60.0, ge=1, le=3600)
    start_grace_s: float = Field(60.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _ws_url(cls, v: str) -> str:
        if not v.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return v.rstrip("/")

    @field_validator("charge_point_id")
    @classmethod
    def _id_chars(cls, v: str) -> str:
        if "/" in v or any(c.isspace() for c in v):
            raise ValueError("must not contain '/' or white space (it is a URL path segment)")
        return v

    @model_validator(mode="after")
    def _client_cert_pair(self) -> OcppSection:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together (security profile 3)")
        return self


class StateSection(_Section):
    dir: Path = Path("/var/lib/chargectl")


class StationSection(_Section):
    voltage_v: float = Field(230.0, ge=100, le=480)
    max_current_a: float | None = Field(
        None, gt=0, le=1000, description="supply limit shared by all connectors (main fuse)"
    )
    fallback_current_a: float = Field(
        6.0,
        ge=0,
        le=80,
        description="per-connector limit while a damaged state file may have lost a supply cap",
    )
    main_fuse_a: float | None = Field(
        None, gt=0, le=1000, description="main fuse per phase, guarded with [station.grid_meter]"
    )
    grid_meter: GridMeterSection = GridMeterSection()

    @model_validator(mode="after")
    def _fuse_with_meter(self) -> StationSection:
        if self.grid_meter.type != "none":
            if self.main_fuse_a is None:
                raise ValueError("a [station.grid_meter] needs station.main_fuse_a")
            if self.grid_meter.margin_a >= self.main_fuse_a:
                raise ValueError("grid_meter.margin_a must be smaller than main_fuse_a")
        return self


class ConnectorSection(_Section):
    id: int = Field(ge=1, le=16)
    driver: DriverName = "sim"
    max_current_a: float = Field(32.0, ge=6, le=80)
    phases: Literal[1, 3] = 3
    phase_rotation: str = Field(
        "L1L2L3",
        description="grid phases of the car's L1, L2, L3 (L2L3L1), or the one phase (L2)",
    )
    pilot: DirectPilotSection = DirectPilotSection()
    modbus: ModbusSection | None = None
    meter: MeterSection | None = None
    rfid: RfidSection | None = None
    phase_switch: PhaseSwitchSection | None = None

    @field_validator("phase_rotation")
    @classmethod
    def _rotation(cls, v: str) -> str:
        from controller.charger.fuse_guard import parse_rotation

        parse_rotation(v)  # its ValueError says how to write it
        return v.strip().upper()

    @model_validator(mode="after")
    def _driver_needs(self) -> ConnectorSection:
        if self.driver == "modbus" and self.modbus is None:
            raise ValueError("driver = 'modbus' needs a [connector.modbus] table")
        if self.driver == "gpiozero_pwm" and self.pilot.pwm_gpio is None:
            raise ValueError("driver = 'gpiozero_pwm' needs pilot.pwm_gpio")
        ps = self.phase_switch
        if ps is not None:
            if self.phases != 3:
                raise ValueError("a phase switch needs a three-phase connector (phases = 3)")
            if self.driver == "modbus":
                raise ValueError(
                    "none of the Modbus board presets can switch phases: remove "
                    "[connector.phase_switch]"
                )
            if self.driver in ("sysfs_pwm", "gpiozero_pwm") and ps.gpio is None:
                raise ValueError("[connector.phase_switch] needs gpio (the relay's GPIO)")
        if self.phases == 3 and len(self.phase_rotation) == 2:
            raise ValueError(
                f"a three-phase connector needs all three phases in phase_rotation, "
                f"e.g. {self.phase_rotation}L3L1 rather than {self.phase_rotation}"
            )
        return self


class SimulatorSection(_Section):
    """The simulated car (`hw.sim.SimulatorSettings`, whose defaults these are; phases and
    voltage come from the connector and the station)."""

    plugged_in: bool = _SIM.plugged_in
    ev_max_current_a: float = Field(_SIM.ev_max_current_a, ge=0, le=80)
    ev_response_s: float = Field(_SIM.ev_response_s, ge=0, le=30)
    ev_sleep_after_pause_s: float = Field(_SIM.ev_sleep_after_pause_s, ge=0)
    ev_ignores_pause: bool = _SIM.ev_ignores_pause


class WebSection(_Section):
    """The dashboard on the charger itself; listening beyond loopback needs a password."""

    enabled: bool = True
    listen: str = Field("127.0.0.1:8080", description="host:port; port 0 picks a free one")
    password: SecretStr | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        return v

    @model_validator(mode="after")
    def _password_beyond_loopback(self) -> WebSection:
        host = self.listen.rpartition(":")[0].strip("[]")
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        if self.enabled and not loopback and self.password is None:
            raise ValueError(
                f"listening on {host} lets anyone on the network see the charger: "
                "set [web] password, or listen on 127.0.0.1"
            )
        return self

    @field_validator("password")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 8:
            raise ValueError("use at least 8 characters")
        return v


class Settings(BaseSettings):
    """Everything `chargectl run` needs; see systemd/config.example.toml."""

    model_config = SettingsConfigDict(
        env_prefix="CHARGECTL_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
    )

    ocpp: OcppSection = OcppSection()
    state: StateSection = StateSection()
    station: StationSection = StationSection()
    pilot: PilotSection = PilotSection()
    connector: list[ConnectorSection] = Field(
        default_factory=lambda: [ConnectorSection(id=1)], min_length=1, max_length=16
    )
    simulator: SimulatorSection = SimulatorSection()
    web: WebSection = WebSection()
    rfid: RfidSection | None = Field(None, description="a reader for the whole station")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _connector_ids(self) -> Settings:
        ids = [c.id for c in self.connector]
        if sorted(ids) != list(range(1, len(ids) + 1)):
            raise ValueError(
                f"connector ids must be 1..{len(ids)} without gaps or repeats (OCPP numbers "
                f"connectors from 1), got {ids}"
            )
        return self

    @model_validator(mode="after")
    def _one_reader_per_device(self) -> Settings:
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
        return self

    @model_validator(mode="after")
    def _modbus_lines(self) -> Settings:
        from controller.modbus_lines import line_budgets
        from hw.modbus_budget import refuse_saturated

        refuse_saturated(line_budgets(self))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives through init_settings (see load); the environment wins.
        return (env_settings, init_settings)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        key = _format_loc(tuple(err["loc"])) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt? see systemd/config.example.toml for every key)"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) or value is None else f" = {value!r}"
        if err["type"] == "extra_forbidden" or _looks_secret(key):
            # An unknown key may be a misspelt secret (`pasword`): never echo its value.
            shown = " = ****" if shown else ""
        elif isinstance(value, str) and "://" in value:
            shown = f" = {mask_url(value)!r}"
        lines.append(f"  {key}{shown}: {msg}")
    return "\n".join(lines)


def load_settings(path: str | os.PathLike[str] | None) -> Settings:
    """Read, merge with the environment and validate; raise ConfigError for the user to read."""
    data: dict[str, Any] = {}
    source = "environment"
    if path is not None:
        p = Path(path)
        source = str(p)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
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
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


_SECRET_WORDS = ("pass", "pwd", "secret", "token", "authorization")


def _looks_secret(key: str) -> bool:
    last = key.rsplit(".", 1)[-1].lower()
    return any(word in last for word in _SECRET_WORDS)


def mask_url(url: str) -> str:
    """The URL with any `user:password@` replaced by `****@`, for logs and output."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"****@{host}"))


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets replaced by '****'."""
    data: dict[str, Any] = json.loads(settings.model_dump_json())
    if settings.ocpp.password is not None:
        data["ocpp"]["password"] = "****"
    data["ocpp"]["url"] = mask_url(settings.ocpp.url)
    return data


def check_config_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    print(json.dumps(masked_dump(settings), indent=2))
    from controller.config_sources import report_sources

    print(report_sources(masked_dump(settings), args.config), file=sys.stderr)
    return 0
