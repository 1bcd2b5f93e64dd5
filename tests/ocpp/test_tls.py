"""wss:// with the CSMS certificate verified against a CA (security profile 2) and a client
certificate (profile 3), with certificates made by openssl in a temporary directory; a CSMS with
a certificate from another CA is refused and reported as a security event once trusted."""

import asyncio
import shutil
import ssl
import subprocess

import pytest
import websockets
from ocpp_helpers import CP, make_settings, running

from controller.demo.csms import DemoCsms

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def _ca(d, name):
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-keyout",
            str(d / f"{name}.key"),
            "-out",
            str(d / f"{name}.pem"),
        ],
        check=True,
        capture_output=True,
    )


def _leaf(d, ca, name, san):
    key, csr, crt = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            str(key),
            "-out",
            str(csr),
        ],
        check=True,
        capture_output=True,
    )
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\n")
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(d / f"{ca}.pem"),
            "-CAkey",
            str(d / f"{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(ext),
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "csms-ca")
    _ca(d, "other-ca")
    _ca(d, "cp-ca")
    server = _leaf(d, "csms-ca", "csms", "IP:127.0.0.1")
    client = _leaf(d, "cp-ca", CP, f"DNS:{CP.lower()}")
    return d, server, client


async def _tls_csms(server_cert, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*server_cert)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    csms = DemoCsms()
    seen = {}

    async def handler(ws):
        cert = ws.transport.get_extra_info("peercert")
        seen["client"] = cert
        await csms._handle(ws)

    server = await websockets.serve(
        handler, "127.0.0.1", 0, ssl=ctx, subprotocols=[websockets.Subprotocol("ocpp1.6")]
    )
    port = server.sockets[0].getsockname()[1]
    return csms, server, f"wss://127.0.0.1:{port}/ocpp", seen


def test_profile_3_client_certificate(tmp_path, pki):
    d, server_cert, client_cert = pki

    async def go():
        csms, server, url, seen = await _tls_csms(server_cert, client_ca=d / "cp-ca.pem")
        try:
            settings = make_settings(
                url,
                tmp_path,
                ca_file=str(d / "csms-ca.pem"),
                client_cert=str(client_cert[0]),
                client_key=str(client_cert[1]),
            )
            async with running(settings):
                await csms.wait_for("BootNotification", timeout_s=20)
            return seen
        finally:
            server.close()

    seen = asyncio.run(asyncio.wait_for(go(), 60))
    subject = dict(x[0] for x in seen["client"]["subject"])
    assert subject["commonName"] == CP


def test_untrusted_csms_is_refused_and_reported(tmp_path, pki):
    d, server_cert, _ = pki

    async def go():
        csms, server, url, _ = await _tls_csms(server_cert)
        try:
            settings = make_settings(url, tmp_path, ca_file=str(d / "other-ca.pem"))
            async with running(settings) as charger:
                await asyncio.sleep(3)
                booted = [r for r in csms.received if r.action == "BootNotification"]
                queued = charger.ocpp.db.peek()
                return booted, queued, charger.ocpp.link_state
        finally:
            server.close()

    booted, queued, link = asyncio.run(asyncio.wait_for(go(), 60))
    assert booted == []
    assert queued is not None and queued.action == "SecurityEventNotification"
    assert queued.payload["type"] == "InvalidCentralSystemCertificate"
    assert link != "booted"
