"""What every request passes through: security headers, a cap on bodies, JSON errors.

Kept out of the routes so no handler can forget them: the CSP is what enforces "nothing but
the charger" in the browser, and a capped body keeps a LAN neighbour from exhausting memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_BODY_BYTES = 4096  # every control fits in far less
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def too_large(request: Request, exc: Exception) -> Response:
    return error(413, f"request body over {MAX_BODY_BYTES} bytes refused")


def error(status: int, text: str) -> Response:
    return JSONResponse({"error": text}, status_code=status)


class TooLarge(Exception):
    pass


async def read_json(request: Request) -> Any:
    """The body as JSON, None if it is not; read with a cap so a huge POST costs nothing."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise TooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class HeadersMiddleware:
    """Security headers and the Date on every response (pure ASGI: it must not buffer the
    event stream). The Date is made here, when a response starts, so that no timer renews a
    cached one every second while nobody asks (`controller.web.uvicorn_server`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                date = (b"date", formatdate(usegmt=True).encode())
                message["headers"] = [*message["headers"], *_encoded(), date]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _encoded() -> Iterator[tuple[bytes, bytes]]:
    for k, v in SECURITY_HEADERS.items():
        yield k.lower().encode(), v.encode()
