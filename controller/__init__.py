"""chargectl: an OCPP 1.6J charge point controller for a Raspberry Pi."""

__version__ = "0.1.0"
