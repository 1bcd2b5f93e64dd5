"""Board drivers for chargectl: the control pilot, the contactor, Modbus EVSE boards and meters.

`hw` knows the IEC 61851 rules and the wires, nothing of OCPP: the charger logic in
`controller` talks to it only through the contracts in `hw.base`. `hw` never imports
`controller`.
"""
