"""A charger with its dashboard and an embedded CSMS in the test's loop, and an HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.app import Charger
from controller.config import Settings, make_settings
from controller.demo.csms import DemoCsms

CP = "CP-WEB"
PASSWORD = "garage-door-42"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    """urllib with a cookie jar: a real HTTP client over loopback."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _do(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            with self._opener.open(req, timeout=10) as r:
                return Reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers), e.read())

    async def get(self, path: str, **headers: str) -> Reply:
        return await asyncio.to_thread(self._do, "GET", path, None, headers)

    async def post(
        self, path: str, body: Any = None, *, origin: str | None = "same", csrf: str | None = None
    ) -> Reply:
        headers = {}
        if origin == "same":
            headers["Origin"] = self.base
        elif origin is not None:
            headers["Origin"] = origin
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        return await asyncio.to_thread(self._do, "POST", path, body, headers)


def settings(
    url: str, state_dir: Path, *, password: str | None = PASSWORD, listen: str = "127.0.0.1:0"
) -> Settings:
    web: dict[str, Any] = {"listen": listen}
    if password is not None:
        web["password"] = password
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP},
        state={"dir": state_dir},
        connector=[{"id": 1, "driver": "sim", "max_current_a": 32}],
        simulator={
            "plugged_in": True,
            "ev_max_current_a": 32,
            "ev_response_s": 0.3,
            "ev_sleep_after_pause_s": 0,
        },
        pilot={"min_pause_s": 5},
        web=web,
    )


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **kw: Any):
    csms = DemoCsms()
    url = await csms.start()
    charger = Charger(settings(url, tmp_path / "state", **kw))
    task = asyncio.create_task(charger.run())
    try:
        await csms.wait_for("BootNotification", timeout_s=20)
        await csms.wait_connected(CP, 10)
        await asyncio.wait_for(charger.web_ready.wait(), 10)  # it starts after the boot
        yield csms, charger
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)
        await csms.close()


async def until(predicate, timeout_s: float = 10.0, step_s: float = 0.1):
    """Poll a condition; return its truthy value or fail with the last one seen."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"condition not met in {timeout_s} s (last: {value!r})")
        await asyncio.sleep(step_s)
