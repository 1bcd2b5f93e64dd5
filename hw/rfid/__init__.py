"""RFID readers: a USB keyboard wedge (evdev), a PN532 on the UART and an RC522 on SPI, each
behind `hw.base.TokenReader`, with a simulated twin. See docs/hardware.md, RFID readers."""
