"""What the dashboard may read and do, as a small typed interface the service implements.

The web code knows nothing about OCPP sessions or drivers: it reads the same document as
`chargectl status --json` and acts through these few verbs, so the charger's internals can be
reshaped without touching the page.
"""

from __future__ import annotations

from typing import Any, Protocol


class ControlError(Exception):
    """A control the charger refused; the message is for the person who pressed the button."""


class LocalControls(Protocol):
    def set_local_cap(self, connector_id: int, limit_a: float | None) -> None:
        """Cap the connector (None removes the cap); raises ControlError if out of range."""

    def pause(self, connector_id: int) -> None:
        """Stop offering current at once; the transaction stays open."""

    def resume(self, connector_id: int) -> None:
        """Allow current again; the pilot state machine decides when the car gets it."""

    def stop_transaction(self, connector_id: int) -> None:
        """End the connector's transaction with reason Local; ControlError if there is none."""

    async def present_tag(self, connector_id: int, id_tag: str) -> bool:
        """As if the tag were held to the reader; True if it was accepted."""


class StationView(Protocol):
    def status_document(self) -> dict[str, Any]:
        """The document of `chargectl status --json`."""

    def composite_schedule(self, connector_id: int, duration_s: int) -> list[tuple[float, float]]:
        """The limit ahead as (epoch seconds, amperes) steps, for the chart."""

    def chart_point(self) -> dict[str, Any]:
        """The few fields of `status_document` the page keeps every second while nobody looks:
        per connector `id`, `offered_a`, `drawn_a` and `transaction.id_tag`; of `csms`,
        `state` and `frames_received`. A fraction of the whole document's cost."""
