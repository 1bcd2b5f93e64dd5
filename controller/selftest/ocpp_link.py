"""Whether the configured back office accepts this charger's WebSocket: the same URL, identity,
subprotocol, Basic auth and TLS settings the service uses, without sending any OCPP message
(an end-of-line test must not boot a unit into the operator's system or start a session)."""

from __future__ import annotations

import ssl
import time

from controller.config import Settings
from controller.csms_ws import basic_auth, ssl_context
from controller.selftest.checks import StepResult, Verdict


async def check_ocpp(settings: Settings, timeout_s: float = 10.0) -> StepResult:
    import websockets
    from websockets.asyncio.client import connect

    o = settings.ocpp
    url = f"{o.url}/{o.charge_point_id}"
    password = o.password.get_secret_value() if o.password is not None else None
    headers = basic_auth(o.charge_point_id, password)
    subprotocol = f"ocpp{o.version}"  # what the service asks for: ocpp1.6 or ocpp2.0.1
    expected = f"WebSocket accepted with subprotocol {subprotocol}"
    started = time.monotonic()
    try:
        async with connect(
            url,
            subprotocols=[websockets.Subprotocol(subprotocol)],
            additional_headers=headers,
            ssl=ssl_context(settings.ocpp),
            open_timeout=timeout_s,
            proxy=None,
        ) as ws:
            elapsed_s = time.monotonic() - started
            if ws.subprotocol != subprotocol:
                return StepResult(
                    "OCPP link", Verdict.FAIL, f"subprotocol {ws.subprotocol!r}", expected, url
                )
    except websockets.InvalidStatus as exc:
        code = exc.response.status_code
        hint = "check charge_point_id and password" if code in (401, 403, 404) else url
        return StepResult("OCPP link", Verdict.FAIL, f"HTTP {code}", expected, hint)
    except (OSError, TimeoutError, websockets.WebSocketException, ssl.SSLError) as exc:
        return StepResult("OCPP link", Verdict.FAIL, type(exc).__name__, expected, f"{url}: {exc}")
    measured = f"connected in {elapsed_s * 1000:.0f} ms"
    return StepResult(
        "OCPP link", Verdict.PASS, measured, expected, url, (("connect_s", elapsed_s),)
    )
