"""The dashboard's HTTP server: Starlette on uvicorn, as a task on the service's own event loop.

Starlette + uvicorn rather than aiohttp: with `websockets` already loaded it adds about 4 MB and
40 ms of import, against 11 MB and 320 ms for aiohttp (measured on the target stack). Every page
asset ships in `static/`; the Content-Security-Policy forbids loading anything from elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from controller.web.auth import COOKIE, Auth, same_origin
from controller.web.controls import ControlError, LocalControls, StationView
from controller.web.guards import HeadersMiddleware, TooLarge, error, read_json, too_large
from controller.web.stream import Feed, LogTail
from controller.web.uvicorn_server import QuietServer

log = logging.getLogger("chargectl.web")
STATIC = Path(__file__).parent / "static"
MAX_CONNECTIONS = 32


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class Dashboard:
    def __init__(
        self,
        listen: str,
        password: str | None,
        view: StationView,
        controls: LocalControls,
        config: dict[str, Any],
    ) -> None:
        self._listen = listen
        self._view = view
        self._controls = controls
        self.auth = Auth(password)
        self.logs = LogTail()
        self.feed = Feed(view, self._extra, time.time)
        self._config = config
        self._registry: Any = None  # prometheus_client is loaded on the first scrape
        self._server: QuietServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.url: str | None = None
        self.app = Starlette(
            exception_handlers={TooLarge: too_large},
            routes=[
                Route("/", self._index),
                Route("/events", self._events),
                Route("/api/status", self._status),
                Route("/api/history", self._history),
                Route("/api/session", self._session),
                Route("/api/login", self._login, methods=["POST"]),
                Route("/api/logout", self._logout, methods=["POST"]),
                Route("/api/connectors/{cid:int}/{action:str}", self._control, methods=["POST"]),
                Route("/metrics", self._metrics),
                Mount("/static", StaticFiles(directory=STATIC), name="static"),
            ],
        )
        self.app.add_middleware(HeadersMiddleware)

    def _extra(self) -> dict[str, Any]:
        return {
            "config": self._config,
            "log": self.logs.lines(),
            "controls_enabled": self.auth.enabled,
        }

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; a port in use is logged, not fatal: charging matters more."""
        host, port = split_listen(self._listen)
        try:
            sock = socket.create_server((host, port), reuse_port=False)
        except OSError as exc:
            log.error("dashboard not started: cannot listen on %s: %s", self._listen, exc.strerror)
            return
        sock.setblocking(False)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}/"
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,
            log_level="warning",
            log_config=None,
            server_header=False,
            date_header=False,  # dated per response by HeadersMiddleware: no timer (QuietServer)
            http="h11",
            ws="none",  # no WebSocket routes: do not load uvicorn's WebSocket protocols
            # A bounded number of connections: a flood gets 503, not the charger's memory.
            limit_concurrency=MAX_CONNECTIONS,
        )
        self._server = QuietServer(config)
        logging.getLogger().addHandler(self.logs)
        self.feed.sample()
        self._tasks = [
            asyncio.create_task(self._server.serve(sockets=[sock]), name="web"),
            asyncio.create_task(self.feed.run(), name="web-feed"),
        ]
        log.info("dashboard on %s", self.url)

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.logs)
        for t in self._tasks:
            if t.get_name() == "web-feed":
                t.cancel()
        self.feed.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=3.0)
            if stuck and self._server is not None:
                self._server.force_exit = True
                _, stuck = await asyncio.wait(stuck, timeout=1.0)
            for t in stuck:
                t.cancel()
        self._tasks = []

    # --- pages and data -------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def _status(self, request: Request) -> Response:
        return JSONResponse(self.feed.current())

    async def _history(self, request: Request) -> Response:
        return JSONResponse(self.feed.history.as_json())

    async def _events(self, request: Request) -> Response:
        return StreamingResponse(
            self.feed.events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _metrics(self, request: Request) -> Response:
        from prometheus_client.exposition import choose_encoder

        from controller.web import metrics

        if self._registry is None:
            self._registry = metrics.registry(self._view.status_document)
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(self._registry)
        return Response(body, media_type=content_type)

    # --- login and controls ---------------------------------------------------------------

    def _sid(self, request: Request) -> str | None:
        return request.cookies.get(COOKIE)

    async def _session(self, request: Request) -> Response:
        s = self.auth.session(self._sid(request), time.monotonic())
        return JSONResponse(
            {
                "controls_enabled": self.auth.enabled,
                "logged_in": s is not None,
                "csrf": s.csrf if s is not None else None,
            }
        )

    def _foreign(self, request: Request) -> bool:
        h = request.headers
        return not same_origin(h.get("origin"), h.get("referer"), h.get("host"))

    async def _login(self, request: Request) -> Response:
        if self._foreign(request):
            return error(403, "request from another site refused")
        if not self.auth.enabled:
            return error(403, "controls are off: set [web] password in the configuration")
        client = request.client.host if request.client else "?"
        now = time.monotonic()
        if self.auth.throttled(client, now):
            return error(429, "too many wrong passwords: wait a minute")
        body = await read_json(request)
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str):
            return error(400, 'send {"password": "..."}')
        ok = await asyncio.to_thread(self.auth.password_ok, password)
        sid = self.auth.login(client, ok, now)
        if sid is None:
            log.warning("dashboard: wrong password from %s", client)
            return error(401, "wrong password")
        s = self.auth.session(sid, now)
        resp = JSONResponse({"logged_in": True, "csrf": s.csrf if s else None})
        resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/")
        log.info("dashboard: login from %s", client)
        return resp

    async def _logout(self, request: Request) -> Response:
        if self._foreign(request):
            return error(403, "request from another site refused")
        self.auth.logout(self._sid(request))
        resp = JSONResponse({"logged_in": False})
        resp.delete_cookie(COOKIE, path="/")
        return resp

    async def _control(self, request: Request) -> Response:
        if self._foreign(request):
            return error(403, "request from another site refused")
        s = self.auth.session(self._sid(request), time.monotonic())
        if s is None:
            return error(401, "log in first")
        token = request.headers.get("x-csrf-token")
        if token is None or token != s.csrf:
            return error(403, "missing or stale CSRF token: reload the page")
        cid: int = request.path_params["cid"]
        action: str = request.path_params["action"]
        body = await read_json(request)
        body = body if isinstance(body, dict) else {}
        handler = self._actions().get(action)
        if handler is None:
            return error(404, f"unknown control {action!r}")
        try:
            result = await handler(cid, body)
        except ControlError as exc:
            return error(409, str(exc))
        except (TypeError, ValueError) as exc:
            return error(400, str(exc))
        self.feed.sample()  # show the effect at once, not at the next second
        return JSONResponse({"ok": True, **result})

    def _actions(
        self,
    ) -> dict[str, Callable[[int, dict[str, Any]], Awaitable[dict[str, Any]]]]:
        c = self._controls

        async def cap(cid: int, body: dict[str, Any]) -> dict[str, Any]:
            raw = body.get("limit_a")
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
                raise ValueError("limit_a must be a number of amperes or null")
            c.set_local_cap(cid, None if raw is None else float(raw))
            return {}

        async def pause(cid: int, body: dict[str, Any]) -> dict[str, Any]:
            c.pause(cid)
            return {}

        async def resume(cid: int, body: dict[str, Any]) -> dict[str, Any]:
            c.resume(cid)
            return {}

        async def stop(cid: int, body: dict[str, Any]) -> dict[str, Any]:
            c.stop_transaction(cid)
            return {}

        async def tag(cid: int, body: dict[str, Any]) -> dict[str, Any]:
            id_tag = body.get("id_tag")
            if not isinstance(id_tag, str):
                raise ValueError("id_tag must be text")
            return {"accepted": await c.present_tag(cid, id_tag)}

        return {"cap": cap, "pause": pause, "resume": resume, "stop": stop, "tag": tag}
