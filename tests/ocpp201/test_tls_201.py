"""wss:// in 2.0.1: the CSMS certificate verified against a CA with a client certificate
(security profile 3), and a CSMS with a certificate from another CA refused and reported as
InvalidCsmsCertificate. Certificates are made by openssl, as for 1.6 (tests/ocpp/test_tls.py)."""

import asyncio
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


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki201")
    for ca in ("csms-ca", "other-ca", "cp-ca"):
        _ca(d, ca)
    return d, _leaf(d, "csms-ca", "csms", "IP:127.0.0.1"), _leaf(d, "cp-ca", CP, f"DNS:{CP}")


async def _tls_csms(server_cert, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*server_cert)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    csms = demo_csms_201()
    seen = {}

    async def handler(ws):
        seen["client"] = ws.transport.get_extra_info("peercert")
        await csms._handle(ws)

    server = await websockets.serve(
        handler, "127.0.0.1", 0, ssl=ctx, subprotocols=[websockets.Subprotocol("ocpp2.0.1")]
    )
    return csms, server, f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp", seen


def test_profile_3_in_201(tmp_path, pki):
    d, server_cert, client_cert = pki

    async def go():
        csms, server, url, seen = await _tls_csms(server_cert, client_ca=d / "cp-ca.pem")
        try:
            settings = make_settings(
                url,
                tmp_path,
                version="2.0.1",
                ca_file=str(d / "csms-ca.pem"),
                client_cert=str(client_cert[0]),
                client_key=str(client_cert[1]),
            )
            async with running(settings) as charger:
                await csms.wait_for("BootNotification", timeout_s=20)
                profile = charger.ocpp.handlers.get_variables(
                    [
                        {
                            "component": {"name": "SecurityCtrlr"},
                            "variable": {"name": "SecurityProfile"},
                        }
                    ]
                )
            return seen, profile
        finally:
            server.close()

    seen, profile = asyncio.run(asyncio.wait_for(go(), 60))
    assert dict(x[0] for x in seen["client"]["subject"])["commonName"] == CP
    assert profile[0]["attribute_value"] == "3"


def test_an_untrusted_csms_is_refused_and_reported_in_201(tmp_path, pki):
    d, server_cert, _ = pki

    async def go():
        csms, server, url, _ = await _tls_csms(server_cert)
        try:
            settings = make_settings(
                url, tmp_path, version="2.0.1", ca_file=str(d / "other-ca.pem")
            )
            async with running(settings) as charger:
                await asyncio.sleep(3)
                booted = [r for r in csms.received if r.action == "BootNotification"]
                return booted, charger.ocpp.db.peek(), charger.ocpp.link_state
        finally:
            server.close()

    booted, queued, link = asyncio.run(asyncio.wait_for(go(), 60))
    assert booted == []
    assert queued is not None and queued.action == "SecurityEventNotification"
    assert queued.payload["type"] == "InvalidCsmsCertificate"
    assert link != "booted"
