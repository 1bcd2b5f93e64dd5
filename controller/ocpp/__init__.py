"""The OCPP 1.6J side of the charge point: the only package that imports `ocpp` and `websockets`."""
