"""OCPP 2.0.1, a second adapter on the station model (`controller.station`).

It shares with the 1.6 adapter everything that is not protocol: the station model, the
profile store and its evaluator, the durable queue, the frame screening, the link's backoff,
the meter-start and stop decisions. What is its own: the `session` (the library's
`ocpp.v201`), TransactionEvent with our UUID transaction ids and a gap-free seqNo
(`tx_events`, `flow`, `queue`), the 2.0.1 profile rules (`profiles`), StatusNotification per
EVSE and connector (`statuses`), and the device model so far (`variables`, `device_model`).
`controller.app` picks this adapter when `[ocpp] version = "2.0.1"`.
"""
