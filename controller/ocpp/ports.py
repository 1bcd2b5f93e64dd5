"""The small interfaces the OCPP adapter's parts talk through, so none needs the whole service.

`Caller` is what a part needs of a live session (one outgoing CALL); `SessionHost` is what a
session needs of the charge point to answer the central system's requests; `Connection` is the
`ocpp` library's own transport protocol, which a websocket or an in-memory pair implements.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.v16.enums import (
    AvailabilityStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    RemoteStartStopStatus,
    TriggerMessageStatus,
    UnlockStatus,
)

from controller.ocpp.feature_profiles import FeatureProfile
from controller.smart_charging import SetResult


class MaintenancePort(Protocol):
    """Firmware update and diagnostics upload as the adapter sees them
    (`firmware_handlers.Maintenance`)."""

    def boot_accepted(self) -> None: ...

    def current_status(self, action: str) -> str:
        """For TriggerMessage: the transfer under way, else "Idle"."""

    def routes(self) -> dict[str, dict[str, Any]]:
        """The session's route entries for UpdateFirmware and GetDiagnostics."""


class RoutesPort(Protocol):
    """A profile's handlers, added to each session's routes (`auth_handlers.AuthHandlers`)."""

    def routes(self) -> dict[str, dict[str, Any]]: ...


class Connection(Protocol):
    async def send(self, message: str) -> None: ...

    async def recv(self) -> str: ...


class Caller(Protocol):
    async def call(self, payload: Any, suppress: bool = True) -> Any: ...


class SessionHost(Protocol):
    def remote_start(
        self, id_tag: str, connector_id: int | None, profile: dict[str, Any] | None
    ) -> RemoteStartStopStatus: ...

    def remote_stop(self, transaction_id: int) -> RemoteStartStopStatus: ...

    def change_availability(self, connector_id: int, kind: str) -> AvailabilityStatus: ...

    def change_configuration(self, key: str, value: str) -> ConfigurationStatus: ...

    def configuration(
        self, keys: list[str] | None
    ) -> tuple[list[dict[str, object]], list[str]]: ...

    async def unlock(self, connector_id: int) -> UnlockStatus: ...

    def reset_later(self, kind: str) -> None: ...

    def set_charging_profile(self, connector_id: int, profile: dict[str, Any]) -> SetResult: ...

    def clear_charging_profile(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> ClearChargingProfileStatus: ...

    def composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None: ...

    def trigger_status(self, message: str, connector_id: int | None) -> TriggerMessageStatus: ...

    def trigger_later(self, message: str, connector_id: int | None) -> None: ...

    def frame_counted(self, accepted: bool) -> None: ...

    def boot_answered(self, status: str) -> None:
        """The CSMS's answer to our BootNotification has arrived (schema-checked)."""

    def answers_calls(self) -> bool:
        """False while the CSMS has Rejected our boot: its requests get no answer."""

    @property
    def feature_profiles(self) -> frozenset[FeatureProfile]:
        """The profiles enabled now (`SupportedFeatureProfiles`)."""

    def frame_sent(self) -> None: ...

    @property
    def maintenance(self) -> MaintenancePort | None:
        """Firmware update and diagnostics upload, if the app set them up."""

    @property
    def auth(self) -> RoutesPort | None:
        """Local list, cache and reservation requests (`auth_handlers`)."""
