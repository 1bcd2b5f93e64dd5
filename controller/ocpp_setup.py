"""The OCPP adapter's settings from the configuration and the hardware built from it.

Kept out of the composition root: the adapter sees `OcppSettings` only, never the file's
sections, and the phase keys (`controller.ocpp.phase_keys`) need the drivers' capabilities.
"""

from __future__ import annotations

from controller import __version__
from controller.config import Settings
from controller.drivers import ConnectorHardware
from controller.ocpp.feature_profiles import parse_profiles
from controller.ocpp.phase_keys import ConnectorWiring, rotation_value, switch_supported
from controller.ocpp.settings import OcppSettings


def ocpp_settings(settings: Settings, hardware: dict[int, ConnectorHardware]) -> OcppSettings:
    """What the OCPP adapter is told of the configuration; the phase keys follow the connectors'
    wiring and what their drivers can do."""
    o = settings.ocpp
    wiring = [
        ConnectorWiring(
            c.id,
            c.phases,
            c.phase_rotation,
            c.id in hardware and hardware[c.id].driver.capabilities.can_switch_phases,
        )
        for c in settings.connector
    ]
    return OcppSettings(
        url=o.url,
        charge_point_id=o.charge_point_id,
        password=o.password.get_secret_value() if o.password else None,
        ca_file=o.ca_file,
        client_cert=o.client_cert,
        client_key=o.client_key,
        vendor=o.vendor,
        model=o.model,
        serial_number=o.serial_number,
        firmware_version=__version__,
        free_vend_id_tag=o.free_vend_id_tag,
        resume_transaction_after_power_loss=o.resume_transaction_after_power_loss,
        call_timeout_s=o.call_timeout_s,
        start_grace_s=o.start_grace_s,
        max_backoff_s=o.max_reconnect_interval_s,
        feature_profiles=parse_profiles(o.feature_profiles),
        phase_rotation=rotation_value(wiring),
        switch_3to1_supported=switch_supported(wiring),
    )
