"""Emulated Modbus devices (an EVSE-WB board with a car behind it, an SDM630 meter) for tests,
the demo and a bench without hardware. They run real pymodbus servers, over TCP or a serial
port, and record every write seen on the wire."""
