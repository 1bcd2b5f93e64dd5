"""Emulated Modbus devices (an EVSE-WB board with a car behind it, an SDM630 meter) for tests,
the demo and a bench without hardware. They run real pymodbus servers, over TCP or a serial
port, and record every write seen on the wire. `pn532` and `rc522` are RFID readers with a card
in front of them: a PN532 answering its frames on a serial port, an MFRC522 register file on
gpiozero's mock SPI."""
