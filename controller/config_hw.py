"""The configuration sections that describe hardware: the pilot and its read-back, Modbus
boards and meters, RFID readers, the phase relay and the grid meter.

Their defaults are the hardware modules' own (`hw.pilot.PilotConfig`, `hw.iec61851.CpBands`):
one source of truth. `controller.config` re-exports every section.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from controller.config_base import BoardName, MeterName, ReaderName
from controller.config_base import Section as _Section
from hw.iec61851 import CpBands
from hw.pilot import PilotConfig
from hw.rfid.tag import IdTagStyle, WedgeFormat

# The hardware's own defaults are the only ones: the sections below read them from here.
_PILOT = PilotConfig()
_BANDS = CpBands()


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
    phase_relay_register: int | None = Field(
        None, ge=0, le=65535, description="generic board: its 1p/3p relay's coil or register"
    )
    phase_relay_coil: bool = Field(False, description="generic board: the relay is a coil")
    phase_relay_device_id: int | None = Field(
        None, ge=1, le=247, description="generic board: a relay unit with its own device id"
    )
    phase_relay_one_phase: int = Field(0, ge=0, le=65535, description="value for one phase")
    phase_relay_three_phases: int = Field(1, ge=0, le=65535, description="value for three")

    @model_validator(mode="after")
    def _one_transport(self) -> ModbusSection:
        if (self.port is None) == (self.host is None):
            raise ValueError("set exactly one of port (RTU serial device) or host (Modbus TCP)")
        if self.board == "generic" and (
            self.current_register is None or self.state_register is None
        ):
            raise ValueError("board = 'generic' needs current_register and state_register")
        relay_keys = {"phase_relay_coil", "phase_relay_device_id", "phase_relay_one_phase"}
        relay_keys |= {"phase_relay_three_phases", "phase_relay_register"}
        if relay_keys & self.model_fields_set and self.board != "generic":
            raise ValueError(
                f"phase_relay_* describe a 'generic' board's relay; board {self.board!r} "
                "has its relay (or none) in its preset"
            )
        if self.phase_relay_one_phase == self.phase_relay_three_phases:
            raise ValueError("phase_relay_one_phase and phase_relay_three_phases must differ")
        if self.phase_relay_coil and {
            self.phase_relay_one_phase,
            self.phase_relay_three_phases,
        } != {0, 1}:
            raise ValueError("a coil is off or on: phase_relay_one_phase and _three_phases 0, 1")
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
