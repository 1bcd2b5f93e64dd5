"""Kept importable: the hardware view moved to the protocol-free station model."""

from controller.station.model import ConnectorSnapshot
from controller.station.model import Hardware as Station

__all__ = ["ConnectorSnapshot", "Station"]
