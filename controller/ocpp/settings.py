"""What the OCPP client needs to know that the CSMS cannot change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controller.ocpp.feature_profiles import FeatureProfile, default_profiles


@dataclass(frozen=True, slots=True)
class OcppSettings:
    url: str
    charge_point_id: str
    password: str | None = None
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    vendor: str = "chargectl"
    model: str = "chargectl-pi"
    serial_number: str | None = None
    firmware_version: str = "0.1.0"
    free_vend_id_tag: str | None = None
    resume_transaction_after_power_loss: bool = False
    call_timeout_s: float = 30.0
    # How long a reconnect waits at most, and how long a CSMS may stay silent before the link
    # is considered dead (websocket ping).
    max_backoff_s: float = 60.0
    ping_interval_s: float = 20.0
    # How long a transaction may charge, with the link up, before the CSMS accepted its start.
    start_grace_s: float = 60.0
    # The feature profiles the configuration enables (`[ocpp] feature_profiles`).
    feature_profiles: tuple[FeatureProfile, ...] = default_profiles()
    # `ConnectorPhaseRotation` as the wiring in the configuration gives it (`phase_keys`);
    # None: Unknown for every connector.
    phase_rotation: str | None = None
    # `ConnectorSwitch3to1PhaseSupported`: every connector has a phase switch.
    switch_3to1_supported: bool = False
