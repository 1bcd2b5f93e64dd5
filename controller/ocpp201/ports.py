"""What a 2.0.1 session needs of the charging station to answer the CSMS (`handlers`
implements it); the session knows nothing else of the station."""

from __future__ import annotations

from typing import Any, Protocol

# (status, statusInfo as a snake_case dict or None)
Answer = tuple[str, dict[str, str] | None]


class Host(Protocol):
    """What the session needs of the charging station to answer the CSMS."""

    def request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None,
        profile: dict[str, Any] | None,
    ) -> Answer: ...  # fmt: skip

    def request_stop(self, transaction_id: str) -> Answer: ...

    def set_charging_profile(self, evse_id: int, profile: dict[str, Any]) -> Answer: ...

    def clear_charging_profile(
        self, profile_id: int | None, criteria: dict[str, Any] | None
    ) -> str: ...

    def composite_schedule(
        self, evse_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None: ...

    def transaction_status(self, transaction_id: str | None) -> tuple[bool, bool | None]: ...

    def reset_status(self, kind: str) -> str: ...

    def reset_later(self, kind: str) -> None: ...

    def get_variables(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def set_variables(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def change_availability(self, evse_id: int | None, operative: bool) -> str: ...

    def trigger_status(self, message: str, evse_id: int | None) -> str: ...

    def trigger_later(self, message: str, evse_id: int | None) -> None: ...

    def unlock(self, evse_id: int, connector_id: int) -> str: ...

    def charging_profiles(
        self, request_id: int, evse_id: int | None, criteria: dict[str, Any]
    ) -> str: ...

    def report_profiles_later(
        self, request_id: int, evse_id: int | None, criteria: dict[str, Any]
    ) -> None: ...

    def base_report(self, request_id: int, base: str) -> str: ...

    def report_later(self, request_id: int, base: str) -> None: ...

    def update_firmware(
        self, request_id: int, firmware: dict[str, Any], retries: int | None, interval: int | None
    ) -> str: ...

    def get_log(
        self,
        request_id: int,
        log_type: str,
        location: dict[str, Any],
        retries: int | None,
        interval: int | None,
    ) -> tuple[str, str | None]: ...

    def upload_log_later(self, request_id: int) -> None: ...

    def frame_counted(self, accepted: bool) -> None: ...

    def frame_sent(self) -> None: ...

    def after_set_variables(self) -> None: ...

    def clear_cache(self) -> str: ...

    def reserve_now(
        self,
        reservation_id: int,
        expiry: str,
        id_token: dict[str, Any],
        evse_id: int | None,
        group: dict[str, Any] | None,
    ) -> Answer: ...

    def cancel_reservation(self, reservation_id: int) -> str: ...

    def local_list_version(self) -> int: ...

    def send_local_list(self, version: int, kind: str, entries: list[dict[str, Any]]) -> Answer: ...
