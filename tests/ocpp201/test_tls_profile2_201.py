"""Security profile 2 in 2.0.1 on its own: wss:// with the CSMS's server certificate checked
against `ca_file` and HTTP Basic auth with the password, no client certificate. A real TLS
websocket server on loopback sees the Authorization header and the subprotocol; a server whose
certificate comes from another CA is refused before any HTTP (the password never leaves) and
reported as InvalidCsmsCertificate. Certificates are made by openssl (tests/ocpp/test_tls.py)."""

import asyncio
import base64
import shutil
import ssl
import sys
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))
from ocpp_helpers import CP, make_settings, running
from test_tls import _ca, _leaf

from controller.demo.csms201 import demo_csms_201

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")

PASSWORD = "profile-2-password-201"
PROFILE = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki201p2")
    for ca in ("csms-ca", "other-ca"):
        _ca(d, ca)
    return d, _leaf(d, "csms-ca", "csms", "IP:127.0.0.1")


async def _tls_csms(server_cert):
    """A TLS-only server (no client certificate asked for) that records each handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*server_cert)
    csms = demo_csms_201()
    seen: list[dict] = []

    async def handler(ws):
        seen.append(
            {
                "authorization": ws.request.headers.get("Authorization"),
                "subprotocol": ws.subprotocol,
                "client_cert": ws.transport.get_extra_info("peercert"),
            }
        )
        await csms._handle(ws)

    server = await websockets.serve(
        handler, "127.0.0.1", 0, ssl=ctx, subprotocols=[websockets.Subprotocol("ocpp2.0.1")]
    )
    return csms, server, f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp", seen


async def _booted(charger, timeout_s):
    async with asyncio.timeout(timeout_s):
        while charger.ocpp.link_state != "booted":
            await asyncio.sleep(0.05)


def test_profile_2_tls_and_basic_auth_in_201(tmp_path, pki):
    d, server_cert = pki

    async def go():
        csms, server, url, seen = await _tls_csms(server_cert)
        try:
            settings = make_settings(
                url,
                tmp_path,
                version="2.0.1",
                ca_file=str(d / "csms-ca.pem"),
                password=PASSWORD,
            )
            async with running(settings) as charger:
                boot = await csms.wait_for("BootNotification", timeout_s=20)
                await _booted(charger, 20)
                profile = charger.ocpp.handlers.get_variables([PROFILE])
            return seen, boot, profile
        finally:
            server.close()

    seen, boot, profile = asyncio.run(asyncio.wait_for(go(), 60))
    expected = "Basic " + base64.b64encode(f"{CP}:{PASSWORD}".encode()).decode()
    assert seen[0]["authorization"] == expected
    assert seen[0]["subprotocol"] == "ocpp2.0.1"
    assert seen[0]["client_cert"] is None  # profile 2: no client certificate offered
    assert boot.payload["charging_station"]["model"]
    assert profile[0]["attribute_status"] == "Accepted"
    assert profile[0]["attribute_value"] == "2"


def test_profile_2_refuses_an_untrusted_csms_in_201(tmp_path, pki):
    d, server_cert = pki

    async def go():
        csms, server, url, seen = await _tls_csms(server_cert)
        try:
            settings = make_settings(
                url,
                tmp_path,
                version="2.0.1",
                ca_file=str(d / "other-ca.pem"),
                password=PASSWORD,
            )
            async with running(settings) as charger:
                await asyncio.sleep(3)
                profile = charger.ocpp.handlers.get_variables([PROFILE])
                return seen, csms.received, charger.ocpp.db.peek(), charger.ocpp.link_state, profile
        finally:
            server.close()

    seen, received, queued, link, profile = asyncio.run(asyncio.wait_for(go(), 60))
    assert seen == []  # the handshake failed before HTTP: no Authorization header was sent
    assert received == []
    assert queued is not None and queued.action == "SecurityEventNotification"
    assert queued.payload["type"] == "InvalidCsmsCertificate"
    assert link != "booted"
    assert profile[0]["attribute_value"] == "2"
