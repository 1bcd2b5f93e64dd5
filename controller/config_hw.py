"""The configuration sections that describe hardware: the pilot and its read-back, Modbus
boards and meters, RFID readers, the phase relay and the grid meter.

Their defaults are the hardware modules' own (`hw.pilot.PilotConfig`, `hw.iec61851.CpBands`):
one source of truth. `controller.config` re-exports every section.
"""

from __future__ import annotations

from typing import Annotated, Literal

import attrs
from attrs import field, frozen

from controller.config_base import BoardName, MeterName, Range, ReaderName
from hw.iec61851 import CpBands
from hw.pilot import PilotConfig
from hw.rfid.tag import IdTagStyle, WedgeFormat

# The hardware's own defaults are the only ones: the sections below read them from here.
_PILOT = PilotConfig()
_BANDS = CpBands()


@frozen(kw_only=True)
class ModbusDevice:
    """Where a Modbus device answers: a serial line (RTU) or a TCP host, and its address. Boards,
    meters and the grid meter share these keys; each section says which transport it needs."""

    # serial device, e.g. /dev/ttyUSB0 (RTU)
    port: str | None = None
    # TCP host (Modbus TCP or an RS-485 gateway)
    host: str | None = None
    tcp_port: Annotated[int, Range(ge=1, le=65535)] = 502
    device_id: Annotated[int, Range(ge=1, le=247)] = 1
    baudrate: Annotated[int, Range(ge=1200, le=115200)] = 9600
    parity: Literal["N", "E", "O"] = "N"


@frozen(kw_only=True)
class GridMeterSection(ModbusDevice):
    """The meter at the house connection that the main-fuse guard reads (docs/energy.md)."""

    type: Literal["none", "sdm630", "sdm72", "sim"] = "none"
    # how often the meter is read
    interval_s: Annotated[float, Range(ge=0.2, le=5)] = 1.0
    # kept free under the main fuse
    margin_a: Annotated[float, Range(ge=0, le=50)] = 1.0
    # no reading this long: fallback_current_a
    silent_after_s: Annotated[float, Range(ge=2, le=300)] = 10.0
    # per connector while the meter is silent; 0 pauses
    fallback_current_a: Annotated[float, Range(ge=0, le=80)] = 6.0
    # headroom must last this long before an offer rises
    increase_after_s: Annotated[float, Range(ge=0, le=3600)] = 30.0

    def __attrs_post_init__(self) -> None:
        if self.type not in ("none", "sim") and (self.port is None) == (self.host is None):
            raise ValueError(f"grid meter type {self.type!r} needs exactly one of port or host")
        if 0 < self.fallback_current_a < 6:
            raise ValueError("fallback_current_a must be 0 (pause) or at least 6 A")


@frozen(kw_only=True)
class PilotBandsSection:
    """CP voltage bands of the direct pilot's read-back; defaults from `hw.iec61851.CpBands`."""

    a_min_v: Annotated[float, Range(ge=-12, le=12)] = _BANDS.a_min_v
    b_min_v: Annotated[float, Range(ge=-12, le=12)] = _BANDS.b_min_v
    c_min_v: Annotated[float, Range(ge=-12, le=12)] = _BANDS.c_min_v
    d_min_v: Annotated[float, Range(ge=-12, le=12)] = _BANDS.d_min_v
    e_min_v: Annotated[float, Range(ge=-12, le=12)] = _BANDS.e_min_v
    hysteresis_v: Annotated[float, Range(ge=0, le=3)] = _BANDS.hysteresis_v
    diode_low_max_v: Annotated[float, Range(ge=-12, le=0)] = _BANDS.diode_low_max_v

    def __attrs_post_init__(self) -> None:
        from hw.iec61851 import CpBands

        CpBands(**attrs.asdict(self))  # its ValueError names the rule that is broken


@frozen(kw_only=True)
class PilotSection:
    """Every setting of the pilot state machine (`hw.pilot.PilotConfig`, whose defaults these
    are; the connector's `max_current_a` supplies the last one)."""

    min_current_a: Annotated[float, Range(ge=6, le=16)] = _PILOT.min_current_a
    current_step_a: Annotated[float, Range(ge=0.01, le=1)] = _PILOT.current_step_a
    resume_hysteresis_a: Annotated[float, Range(ge=0, le=10)] = _PILOT.resume_hysteresis_a
    min_pause_s: Annotated[float, Range(ge=5, le=3600)] = _PILOT.min_pause_s
    pwm_min_update_interval_s: Annotated[float, Range(ge=0, le=60)] = (
        _PILOT.pwm_min_update_interval_s
    )
    # unset: 5 s between decreases, 1 s under a main-fuse guard (docs/energy.md)
    decrease_min_interval_s: Annotated[float, Range(ge=0, le=60)] | None = None
    c_enter_debounce_s: Annotated[float, Range(ge=0.2, le=2.5)] = _PILOT.c_enter_debounce_s
    force_open_after_s: Annotated[float, Range(ge=3, le=30)] = _PILOT.force_open_after_s
    wake_up_enabled: bool = _PILOT.wake_up_enabled
    wake_after_s: Annotated[float, Range(ge=5, le=600)] = _PILOT.wake_after_s
    wake_f_s: Annotated[float, Range(ge=3, le=30)] = _PILOT.wake_f_s
    wake_x1_s: Annotated[float, Range(ge=0.1, le=10)] = _PILOT.wake_x1_s
    wake_give_up_s: Annotated[float, Range(ge=1, le=600)] = _PILOT.wake_give_up_s
    max_interruptions_per_session: Annotated[int, Range(ge=1, le=1000)] = (
        _PILOT.max_interruptions_per_session
    )
    capped_min_pause_s: Annotated[float, Range(ge=5, le=86400)] = _PILOT.capped_min_pause_s
    ventilation_supported: bool = _PILOT.ventilation_supported
    fault_f_s: Annotated[float, Range(ge=0.3, le=10)] = _PILOT.fault_f_s
    error_retry_s: Annotated[float, Range(ge=1, le=3600)] = _PILOT.error_retry_s
    contactor_feedback_timeout_s: Annotated[float, Range(ge=0.05, le=5)] = (
        _PILOT.contactor_feedback_timeout_s
    )
    output_settle_s: Annotated[float, Range(ge=0, le=1)] = _PILOT.output_settle_s
    startup_hold_s: Annotated[float, Range(ge=0, le=60)] = _PILOT.startup_hold_s
    # contactor closed: C -> B in 100 ms. Unset: the driver's own pace (direct pilot 0.05 s
    # charging and 0.5 s idle; the simulator, whose contactor carries no current, 0.2 s and 1 s)
    poll_interval_s: Annotated[float, Range(ge=0.01, le=0.05)] | None = None
    idle_poll_interval_s: Annotated[float, Range(ge=0.05, le=1)] | None = None
    bands: PilotBandsSection = field(factory=PilotBandsSection)

    def __attrs_post_init__(self) -> None:
        if self.capped_min_pause_s < self.min_pause_s:
            raise ValueError(
                f"capped_min_pause_s ({self.capped_min_pause_s:g} s) must not be shorter than "
                f"min_pause_s ({self.min_pause_s:g} s): it is the pause once the cap is reached"
            )


@frozen(kw_only=True)
class DirectPilotSection:
    """Wiring of a connector whose pilot the Pi drives itself."""

    # platform device of the PWM block, or 'auto'
    pwm_chip: str = "auto"
    # unset: GPIO18's channel (2 on a Pi 5, 0 on a Pi 4)
    pwm_channel: Annotated[int, Range(ge=0, le=3)] | None = None
    # GPIO for driver=gpiozero_pwm
    pwm_gpio: Annotated[int, Range(ge=0, le=27)] | None = None
    invert: bool = False
    contactor_gpio: Annotated[int, Range(ge=0, le=27)] = 17
    contactor_active_high: bool = True
    contactor_feedback_gpio: Annotated[int, Range(ge=0, le=27)] | None = None
    contactor_feedback_pull_up: bool = False
    watchdog_gpio: Annotated[int, Range(ge=0, le=27)] | None = None
    adc: Literal["mcp3002", "mcp3004", "mcp3008"] = "mcp3004"
    adc_positive_channel: Annotated[int, Range(ge=0, le=7)] = 0
    adc_negative_channel: Annotated[int, Range(ge=0, le=7)] = 1
    adc_spi_port: Annotated[int, Range(ge=0, le=1)] = 0
    adc_spi_device: Annotated[int, Range(ge=0, le=1)] = 0
    # Defaults: a divider mapping +12 V -> 3.18 V, 0 V -> 1.71 V, -12 V -> 0.25 V at 3.3 V.
    # CP volts per full ADC scale
    adc_volts_per_unit: Annotated[float, Range(gt=0, le=1000)] = 3.3 * 12 / (3.18 - 1.71)
    # CP volts at ADC reading 0
    adc_offset_v: Annotated[float, Range(ge=-100, le=100)] = -1.71 * 12 / (3.18 - 1.71)
    peak_reset_gpio: Annotated[int, Range(ge=0, le=27)] | None = None


@frozen(kw_only=True)
class ModbusSection(ModbusDevice):
    """Where a Modbus EVSE board is and which register map it speaks."""

    board: BoardName = "evse_wb"
    timeout_s: Annotated[float, Range(gt=0, le=10)] = 0.5
    # generic board
    current_register: Annotated[int, Range(ge=0, le=65535)] | None = None
    # generic board
    state_register: Annotated[int, Range(ge=0, le=65535)] | None = None
    # generic board: register units per A
    current_scale: Annotated[float, Range(gt=0)] = 1.0
    # the board runs the pilot; limits are written at once
    poll_interval_s: Annotated[float, Range(ge=0.2, le=10)] = 1.0
    # generic board: its 1p/3p relay's coil or register
    phase_relay_register: Annotated[int, Range(ge=0, le=65535)] | None = None
    # generic board: the relay is a coil (unset: a holding register)
    phase_relay_coil: bool | None = None
    # generic board: a relay unit with its own device id
    phase_relay_device_id: Annotated[int, Range(ge=1, le=247)] | None = None
    # generic board: value for one phase (unset: 0)
    phase_relay_one_phase: Annotated[int, Range(ge=0, le=65535)] | None = None
    # generic board: value for three phases (unset: 1)
    phase_relay_three_phases: Annotated[int, Range(ge=0, le=65535)] | None = None

    @property
    def relay_values(self) -> tuple[bool, int, int]:
        """(coil, one phase, three phases) of a generic board's relay, defaults filled in."""
        one = 0 if self.phase_relay_one_phase is None else self.phase_relay_one_phase
        three = 1 if self.phase_relay_three_phases is None else self.phase_relay_three_phases
        return bool(self.phase_relay_coil), one, three

    def __attrs_post_init__(self) -> None:
        if (self.port is None) == (self.host is None):
            raise ValueError("set exactly one of port (RTU serial device) or host (Modbus TCP)")
        if self.board == "generic" and (
            self.current_register is None or self.state_register is None
        ):
            raise ValueError("board = 'generic' needs current_register and state_register")
        relay_keys = (
            self.phase_relay_coil,
            self.phase_relay_device_id,
            self.phase_relay_one_phase,
            self.phase_relay_three_phases,
            self.phase_relay_register,
        )
        if any(k is not None for k in relay_keys) and self.board != "generic":
            raise ValueError(
                f"phase_relay_* describe a 'generic' board's relay; board {self.board!r} "
                "has its relay (or none) in its preset"
            )
        coil, one, three = self.relay_values
        if one == three:
            raise ValueError("phase_relay_one_phase and phase_relay_three_phases must differ")
        if coil and {one, three} != {0, 1}:
            raise ValueError("a coil is off or on: phase_relay_one_phase and _three_phases 0, 1")


@frozen(kw_only=True)
class MeterSection(ModbusDevice):
    """The connector's own energy meter."""

    type: MeterName = "none"

    def __attrs_post_init__(self) -> None:
        if self.type not in ("none", "sim") and (self.port is None) == (self.host is None):
            raise ValueError(f"meter type {self.type!r} needs exactly one of port or host")


@frozen(kw_only=True)
class RfidSection:
    """An RFID reader, for one connector (`[connector.rfid]`) or the station (`[rfid]`)."""

    type: ReaderName
    # hid: the evdev device
    path: Annotated[str, Range(min_length=1)] = "/dev/input/chargectl-rfid"
    # hid: how the reader types the UID
    wedge_format: WedgeFormat = WedgeFormat.DEC_LE
    # pn532: the UART
    port: Annotated[str, Range(min_length=1)] = "/dev/serial0"
    # pn532
    baudrate: Annotated[int, Range(ge=9600, le=230400)] = 115200
    # rc522
    spi_port: Annotated[int, Range(ge=0, le=1)] = 0
    # rc522: CE0 or CE1
    spi_device: Annotated[int, Range(ge=0, le=1)] = 0
    # rc522: RST pin
    reset_gpio: Annotated[int, Range(ge=0, le=27)] | None = 25
    # hex of the UID bytes, or the number a wedge printed
    id_tag_style: IdTagStyle = IdTagStyle.HEX
    poll_interval_s: Annotated[float, Range(ge=0.05, le=2)] = 0.3

    @property
    def device(self) -> str:
        """What two readers must not share."""
        return {
            "hid": self.path,
            "pn532": self.port,
            "rc522": f"spi{self.spi_port}.{self.spi_device}",
            "sim": "",
        }[self.type]


@frozen(kw_only=True)
class PhaseSwitchSection:
    """The relay that switches a three-phase connector to one phase (docs/energy.md)."""

    # relay connecting L2 and L3
    gpio: Annotated[int, Range(ge=0, le=27)] | None = None
    active_high: bool = True
    feedback_gpio: Annotated[int, Range(ge=0, le=27)] | None = None
    feedback_pull_up: bool = False
    # relay switched -> offer back
    wait_s: Annotated[float, Range(ge=2, le=60)] = 10.0
    # one switch per this
    min_interval_s: Annotated[float, Range(ge=60, le=86400)] = 300.0
    # car must charge within this
    confirm_s: Annotated[float, Range(ge=10, le=600)] = 60.0
    # three phases must fit this long to go back
    up_after_s: Annotated[float, Range(ge=0, le=86400)] = 300.0
