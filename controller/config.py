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
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hw.iec61851 import CpBands
from hw.pilot import PilotConfig
from hw.rfid.tag import IdTagStyle, WedgeFormat
from hw.sim import SimulatorSettings

EX_CONFIG = 78

# The hardware's own defaults are the only ones: the sections below read them from here.
_PILOT = PilotConfig()
_BANDS = CpBands()
_SIM = SimulatorSettings()

DriverName = Literal["sim", "sysfs_pwm", "gpiozero_pwm", "modbus"]
MeterName = Literal["none", "sim", "sdm630", "sdm120", "sdm72", "abb_b23"]
BoardName = Literal["evse_wb", "evse_din", "heidelberg", "openwb_satellit", "generic"]
ReaderName = Literal["hid", "pn532", "rc522", "sim"]


class ConfigError(Exception):
    """The configuration is unusable; the message is meant for the person who wrote it."""


class _Section(BaseModel):
    # allow_inf_nan=False: `inf` or `nan` in a timer or a current is always a mistake, and one
    # that would otherwise pass every `ge=` bound and only fail deep inside `run`.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class OcppSection(_Section):
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


class GridMeterSection(_Section):
    """The meter at the house connection that the main-fuse guard reads (docs/energy.md)."""

    type: Literal["none", "sdm630", "sdm72", "sim"] = "none"
    port: str | None = Field(None, description="serial device, e.g. /dev/ttyUSB1 (RTU)")
    host: str | None = Field(None, description="TCP host (Modbus TCP or an RS-485 gateway)")
    tcp_port: int = Field(502, ge=1, le=65535)
    device_id: int = Field(1, ge=1, le=247)
    baudrate: int = Field(9600, ge=1200, le=115200)
    parity: Literal["N", "E", "O"] = "N"
    interval_s: float = Field(1.0, ge=0.2, le=5, description="how often the meter is read")
    margin_a: float = Field(1.0, ge=0, le=50, description="kept free under the main fuse")
    silent_after_s: float = Field(
        10.0, ge=2, le=300, description="no reading this long: fallback_current_a"
    )
    fallback_current_a: float = Field(
        6.0, ge=0, le=80, description="per connector while the meter is silent; 0 pauses"
    )
    increase_after_s: float = Field(
        30.0, ge=0, le=3600, description="headroom must last this long before an offer rises"
    )

    @model_validator(mode="after")
    def _transport(self) -> GridMeterSection:
        if self.type not in ("none", "sim") and (self.port is None) == (self.host is None):
            raise ValueError(f"grid meter type {self.type!r} needs exactly one of port or host")
        if 0 < self.fallback_current_a < 6:
            raise ValueError("fallback_current_a must be 0 (pause) or at least 6 A")
        return self


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


class PilotBandsSection(_Section):
    """CP voltage bands of the direct pilot's read-back; defaults from `hw.iec61851.CpBands`."""

    a_min_v: float = Field(_BANDS.a_min_v, ge=-12, le=12)
    b_min_v: float = Field(_BANDS.b_min_v, ge=-12, le=12)
    c_min_v: float = Field(_BANDS.c_min_v, ge=-12, le=12)
    d_min_v: float = Field(_BANDS.d_min_v, ge=-12, le=12)
    e_min_v: float = Field(_BANDS.e_min_v, ge=-12, le=12)
    hysteresis_v: float = Field(_BANDS.hysteresis_v, ge=0, le=3)
    diode_low_max_v: float = Field(_BANDS.diode_low_max_v, ge=-12, le=0)

    @model_validator(mode="after")
    def _ordered(self) -> PilotBandsSection:
        from hw.iec61851 import CpBands

        CpBands(**self.model_dump())  # its ValueError names the rule that is broken
        return self


class PilotSection(_Section):
    """Every setting of the pilot state machine (`hw.pilot.PilotConfig`, whose defaults these
    are; the connector's `max_current_a` supplies the last one)."""

    min_current_a: float = Field(_PILOT.min_current_a, ge=6, le=16)
    current_step_a: float = Field(_PILOT.current_step_a, ge=0.01, le=1)
    resume_hysteresis_a: float = Field(_PILOT.resume_hysteresis_a, ge=0, le=10)
    min_pause_s: float = Field(_PILOT.min_pause_s, ge=5, le=3600)
    pwm_min_update_interval_s: float = Field(_PILOT.pwm_min_update_interval_s, ge=0, le=60)
    decrease_min_interval_s: float = Field(_PILOT.decrease_min_interval_s, ge=0, le=60)
    c_enter_debounce_s: float = Field(_PILOT.c_enter_debounce_s, ge=0.2, le=2.5)
    force_open_after_s: float = Field(_PILOT.force_open_after_s, ge=3, le=30)
    wake_up_enabled: bool = _PILOT.wake_up_enabled
    wake_after_s: float = Field(_PILOT.wake_after_s, ge=5, le=600)
    wake_f_s: float = Field(_PILOT.wake_f_s, ge=3, le=30)
    wake_x1_s: float = Field(_PILOT.wake_x1_s, ge=0.1, le=10)
    wake_give_up_s: float = Field(_PILOT.wake_give_up_s, ge=1, le=600)
    max_interruptions_per_session: int = Field(_PILOT.max_interruptions_per_session, ge=1, le=1000)
    capped_min_pause_s: float = Field(_PILOT.capped_min_pause_s, ge=5, le=86400)
    ventilation_supported: bool = _PILOT.ventilation_supported
    fault_f_s: float = Field(_PILOT.fault_f_s, ge=0.3, le=10)
    error_retry_s: float = Field(_PILOT.error_retry_s, ge=1, le=3600)
    contactor_feedback_timeout_s: float = Field(_PILOT.contactor_feedback_timeout_s, ge=0.05, le=5)
    output_settle_s: float = Field(_PILOT.output_settle_s, ge=0, le=1)
    startup_hold_s: float = Field(_PILOT.startup_hold_s, ge=0, le=60)
    poll_interval_s: float = Field(
        _PILOT.poll_interval_s, ge=0.01, le=0.05, description="contactor closed: C -> B in 100 ms"
    )
    idle_poll_interval_s: float = Field(_PILOT.idle_poll_interval_s, ge=0.05, le=1)
    bands: PilotBandsSection = PilotBandsSection()

    @model_validator(mode="after")
    def _capped_pause_not_shorter(self) -> PilotSection:
        if self.capped_min_pause_s < self.min_pause_s:
            raise ValueError(
                f"capped_min_pause_s ({self.capped_min_pause_s:g} s) must not be shorter than "
                f"min_pause_s ({self.min_pause_s:g} s): it is the pause once the cap is reached"
            )
        return self


class DirectPilotSection(_Section):
    """Wiring of a connector whose pilot the Pi drives itself."""

    pwm_chip: str = Field("auto", description="platform device of the PWM block, or 'auto'")
    pwm_channel: int | None = Field(
        None, ge=0, le=3, description="unset: GPIO18's channel (2 on a Pi 5, 0 on a Pi 4)"
    )
    pwm_gpio: int | None = Field(None, ge=0, le=27, description="GPIO for driver=gpiozero_pwm")
    invert: bool = False
    contactor_gpio: int = Field(17, ge=0, le=27)
    contactor_active_high: bool = True
    contactor_feedback_gpio: int | None = Field(None, ge=0, le=27)
    contactor_feedback_pull_up: bool = False
    watchdog_gpio: int | None = Field(None, ge=0, le=27)
    adc: Literal["mcp3002", "mcp3004", "mcp3008"] = "mcp3004"
    adc_positive_channel: int = Field(0, ge=0, le=7)
    adc_negative_channel: int = Field(1, ge=0, le=7)
    adc_spi_port: int = Field(0, ge=0, le=1)
    adc_spi_device: int = Field(0, ge=0, le=1)
    # Defaults: a divider mapping +12 V -> 3.18 V, 0 V -> 1.71 V, -12 V -> 0.25 V at 3.3 V.
    adc_volts_per_unit: float = Field(
        3.3 * 12 / (3.18 - 1.71), gt=0, le=1000, description="CP volts per full ADC scale"
    )
    adc_offset_v: float = Field(
        -1.71 * 12 / (3.18 - 1.71), ge=-100, le=100, description="CP volts at ADC reading 0"
    )
    peak_reset_gpio: int | None = Field(None, ge=0, le=27)


class ModbusSection(_Section):
    """Where a Modbus EVSE board is and which register map it speaks."""

    board: BoardName = "evse_wb"
    port: str | None = Field(None, description="serial device, e.g. /dev/ttyUSB0 (RTU)")
    host: str | None = Field(None, description="TCP host (Modbus TCP or an RS-485 gateway)")
    tcp_port: int = Field(502, ge=1, le=65535)
    device_id: int = Field(1, ge=1, le=247)
    baudrate: int = Field(9600, ge=1200, le=115200)
    parity: Literal["N", "E", "O"] = "N"
    timeout_s: float = Field(0.5, gt=0, le=10)
    current_register: int | None = Field(None, ge=0, le=65535, description="generic board")
    state_register: int | None = Field(None, ge=0, le=65535, description="generic board")
    current_scale: float = Field(1.0, gt=0, description="generic board: register units per A")
    poll_interval_s: float = Field(
        1.0, ge=0.2, le=10, description="the board runs the pilot; limits are written at once"
    )

    @model_validator(mode="after")
    def _one_transport(self) -> ModbusSection:
        if (self.port is None) == (self.host is None):
            raise ValueError("set exactly one of port (RTU serial device) or host (Modbus TCP)")
        if self.board == "generic" and (
            self.current_register is None or self.state_register is None
        ):
            raise ValueError("board = 'generic' needs current_register and state_register")
        return self


class MeterSection(_Section):
    type: MeterName = "none"
    port: str | None = None
    host: str | None = None
    tcp_port: int = Field(502, ge=1, le=65535)
    device_id: int = Field(1, ge=1, le=247)
    baudrate: int = Field(9600, ge=1200, le=115200)
    parity: Literal["N", "E", "O"] = "N"

    @model_validator(mode="after")
    def _transport(self) -> MeterSection:
        if self.type not in ("none", "sim") and (self.port is None) == (self.host is None):
            raise ValueError(f"meter type {self.type!r} needs exactly one of port or host")
        return self


class RfidSection(_Section):
    """An RFID reader, for one connector (`[connector.rfid]`) or the station (`[rfid]`)."""

    type: ReaderName
    path: str = Field(
        "/dev/input/chargectl-rfid", min_length=1, description="hid: the evdev device"
    )
    wedge_format: WedgeFormat = Field(
        WedgeFormat.DEC_LE, description="hid: how the reader types the UID"
    )
    port: str = Field("/dev/serial0", min_length=1, description="pn532: the UART")
    baudrate: int = Field(115200, ge=9600, le=230400, description="pn532")
    spi_port: int = Field(0, ge=0, le=1, description="rc522")
    spi_device: int = Field(0, ge=0, le=1, description="rc522: CE0 or CE1")
    reset_gpio: int | None = Field(25, ge=0, le=27, description="rc522: RST pin")
    id_tag_style: IdTagStyle = Field(
        IdTagStyle.HEX, description="hex of the UID bytes, or the number a wedge printed"
    )
    poll_interval_s: float = Field(0.3, ge=0.05, le=2)

    @property
    def device(self) -> str:
        """What two readers must not share."""
        return {
            "hid": self.path,
            "pn532": self.port,
            "rc522": f"spi{self.spi_port}.{self.spi_device}",
            "sim": "",
        }[self.type]


class PhaseSwitchSection(_Section):
    """The relay that switches a three-phase connector to one phase (docs/energy.md)."""

    gpio: int | None = Field(None, ge=0, le=27, description="relay connecting L2 and L3")
    active_high: bool = True
    feedback_gpio: int | None = Field(None, ge=0, le=27)
    feedback_pull_up: bool = False
    wait_s: float = Field(10.0, ge=2, le=60, description="relay switched -> offer back")
    min_interval_s: float = Field(300.0, ge=60, le=86400, description="one switch per this")
    confirm_s: float = Field(60.0, ge=10, le=600, description="car must charge within this")
    up_after_s: float = Field(
        300.0, ge=0, le=86400, description="three phases must fit this long to go back"
    )


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
