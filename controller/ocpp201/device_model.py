"""The device model's values the station knows at any moment (B, the required components):
the clock, the profiles installed, availability, and what the settings fix. ReadOnly; the
variables a CSMS may set are in `variables`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC

from controller.firmware import transfer
from controller.ocpp.settings import OcppSettings
from controller.ocpp201.variables import DataType, Live
from controller.smart_charging import ProfileStore
from controller.station import ConnectorStates
from controller.timestamps import utc_iso
from hw.clock import Clock

LiveEntry = tuple[DataType, Callable[[], str]]


def _const(value: str) -> Callable[[], str]:
    return lambda: value


def security_profile(s: OcppSettings) -> int:
    """3: client certificate; 2: TLS and a password; 1: a password; 0: none."""
    if s.client_cert:
        return 3
    if s.url.startswith("wss://"):
        return 2
    return 1 if s.password else 0


def live_values(
    s: OcppSettings,
    profiles: ProfileStore,
    clock: Clock,
    connectors: ConnectorStates,
    connector_status: Callable[[int], str],
    evse_ids: Sequence[int],
) -> Live:
    """`connector_status(evse)` is the StatusNotification word, the connector's
    AvailabilityState; EVSE N has the one connector N.1."""
    fixed = {
        ("OCPPCommCtrlr", "MessageTimeout[Default]"): str(int(s.call_timeout_s)),
        ("SecurityCtrlr", "SecurityProfile"): str(security_profile(s)),
        ("SmartChargingCtrlr", "ProfileStackLevel"): str(profiles.config.max_stack_level),
        ("SmartChargingCtrlr", "PeriodsPerSchedule"): str(profiles.config.max_periods),
        ("ChargingStation", "SupplyPhases"): str(profiles.config.phases),
    }
    live: dict[tuple[str, str], tuple[DataType, Callable[[], str]]] = {
        name: (DataType.INTEGER, _const(value)) for name, value in fixed.items()
    }
    live |= required_read_only(s)
    live[("ClockCtrlr", "DateTime")] = (
        DataType.STRING,
        lambda: utc_iso(clock.now().astimezone(UTC)),
    )
    live[("SmartChargingCtrlr", "Entries[ChargingProfiles]")] = (
        DataType.INTEGER,
        lambda: str(len(profiles.installed())),
    )
    live[("ChargingStation", "AvailabilityState")] = (
        DataType.STRING,
        lambda: "Available" if connectors.any_operative() else "Unavailable",
    )
    c = profiles.config
    for evse in evse_ids:
        at, plug = f"EVSE@{evse}", f"Connector@{evse}.1"
        state = _status_of(connector_status, evse)
        live[(at, "AvailabilityState")] = (DataType.STRING, state)
        live[(plug, "AvailabilityState")] = (DataType.STRING, state)
        for where in (at, plug):
            live[(where, "Available")] = (DataType.BOOLEAN, _const("true"))
            live[(where, "SupplyPhases")] = (DataType.INTEGER, _const(str(c.phases)))
        power_w = c.max_current_a * c.phases * c.voltage_v
        live[(at, "Power")] = (DataType.DECIMAL, _const(f"{power_w:.0f}"))
        live[(plug, "ConnectorType")] = (DataType.STRING, _const("Unknown"))  # socket or cable
    return live


def required_read_only(
    s: OcppSettings,
) -> dict[tuple[str, str], tuple[DataType, Callable[[], str]]]:
    """The required variables the station reports but does not let a CSMS change: each
    value says what the station does."""
    both = [p for p in transfer.UPLOAD_SCHEMES if p in transfer.DOWNLOAD_SCHEMES]
    return {
        # Every reconnect sends every connector's status, however short the outage.
        ("OCPPCommCtrlr", "OfflineThreshold"): (DataType.INTEGER, _const("0")),
        # One configured connection ([ocpp] url), in slot 1; no network profiles (B09).
        ("OCPPCommCtrlr", "NetworkConfigurationPriority"): (DataType.STRING, _const("1")),
        # Firmware downloads and log uploads both.
        ("OCPPCommCtrlr", "FileTransferProtocols"): (
            DataType.MEMBER_LIST,
            _const(",".join(p.upper() for p in both)),
        ),
        ("OCPPCommCtrlr", "ResetRetries"): (DataType.INTEGER, _const("0")),  # a reset is final
        ("SecurityCtrlr", "OrganizationName"): (DataType.STRING, _const(s.vendor)),
        # The CA certificates the station trusts the CSMS by ([ocpp] ca_file); none installed
        # by InstallCertificate (A02/M not supported).
        ("SecurityCtrlr", "CertificateEntries"): (DataType.INTEGER, lambda: str(_certs(s))),
    }


def _certs(s: OcppSettings) -> int:
    if s.ca_file is None:
        return 0
    try:
        return s.ca_file.read_text(errors="replace").count("-----BEGIN CERTIFICATE-----")
    except OSError:
        return 0


def _status_of(status: Callable[[int], str], evse: int) -> Callable[[], str]:
    return lambda: status(evse)
