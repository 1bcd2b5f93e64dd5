"""Charger logic: from the smart-charging limit to the current each connector offers."""
