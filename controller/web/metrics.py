"""`/metrics` for Prometheus, read from the status document at scrape time.

A collector instead of gauges updated by the control loop: the loop stays free of metrics code
and a scrape always shows the same numbers as `chargectl status`. Energy is exported in
watt-hours (`_watthours_total`), the unit every meter and OCPP use, not joules: a documented
deviation from the base-unit rule so the numbers match the meter's display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

CAR_STATES = ("A", "B", "C", "D", "E", "F")


class StatusCollector(Collector):
    def __init__(self, document: Callable[[], dict[str, Any]]) -> None:
        self._document = document

    def collect(self) -> Iterator[Any]:
        doc = self._document()
        conn = ["connector"]
        offered = GaugeMetricFamily(
            "chargectl_offered_current_amperes", "Current offered to the car.", labels=conn
        )
        drawn = GaugeMetricFamily(
            "chargectl_drawn_current_amperes",
            "Highest phase current the meter measures.",
            labels=conn,
        )
        power = GaugeMetricFamily(
            "chargectl_active_power_watts", "Active power the meter measures.", labels=conn
        )
        energy = CounterMetricFamily(
            "chargectl_energy_imported_watthours",
            "Energy register of the connector's meter.",
            labels=conn,
        )
        limit = GaugeMetricFamily(
            "chargectl_limit_amperes",
            "Smart-charging limit in force (absent when nothing limits).",
            labels=conn,
        )
        state = GaugeMetricFamily(
            "chargectl_connector_state",
            "Car state of the control pilot (IEC 61851), 1 for the current one.",
            labels=[*conn, "state"],
        )
        fault = GaugeMetricFamily(
            "chargectl_connector_fault", "1 while the connector reports a fault.", labels=conn
        )
        tx = GaugeMetricFamily(
            "chargectl_transaction_active", "1 while a transaction is open.", labels=conn
        )
        for c in doc.get("connectors", []):
            cid = str(c["id"])
            if c.get("offered_a") is not None:
                offered.add_metric([cid], float(c["offered_a"]))
            if c.get("drawn_a") is not None:
                drawn.add_metric([cid], float(c["drawn_a"]))
            if c.get("power_w") is not None:
                power.add_metric([cid], float(c["power_w"]))
            if c.get("energy_wh") is not None:
                energy.add_metric([cid], float(c["energy_wh"]))
            lim = c.get("limit") or {}
            if lim.get("value") is not None and lim.get("unit") == "A":
                limit.add_metric([cid], float(lim["value"]))
            for s in CAR_STATES:
                state.add_metric([cid, s], 1.0 if c.get("cp_state") == s else 0.0)
            fault.add_metric([cid], 1.0 if c.get("fault") else 0.0)
            tx.add_metric([cid], 1.0 if c.get("transaction") else 0.0)
        csms = doc.get("csms", {})
        up = GaugeMetricFamily("chargectl_ocpp_connected", "1 while the CSMS accepted our boot.")
        up.add_metric([], 1.0 if csms.get("state") == "booted" else 0.0)
        queue = GaugeMetricFamily(
            "chargectl_ocpp_queue_length", "Messages waiting to be delivered to the CSMS."
        )
        if csms.get("queued_messages") is not None:
            queue.add_metric([], float(csms["queued_messages"]))
        tick = GaugeMetricFamily(
            "chargectl_control_loop_tick_age_seconds", "Time since the control loop last ran."
        )
        age = (doc.get("loop") or {}).get("tick_age_s")
        if age is not None:
            tick.add_metric([], float(age))
        info = InfoMetricFamily("chargectl_build", "Version of chargectl.")
        info.add_metric([], {"version": str(doc.get("version", ""))})
        yield from (offered, drawn, power, energy, limit, state, fault, tx, up, queue, tick, info)


def registry(document: Callable[[], dict[str, Any]]) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StatusCollector(document))
    return reg
