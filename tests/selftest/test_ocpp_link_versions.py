"""The end-of-line link check asks the CSMS for the subprotocol the service will use: a unit
configured for OCPP 2.0.1 must not pass (or fail) on the strength of an OCPP 1.6 handshake."""

from __future__ import annotations

import asyncio

import pytest

from controller.config import make_settings
from controller.demo.csms import DemoCsms
from controller.demo.csms201 import demo_csms_201
from controller.selftest.checks import Verdict
from controller.selftest.ocpp_link import check_ocpp


async def _link(csms_version: str, configured: str) -> tuple[Verdict, str]:
    csms = demo_csms_201() if csms_version == "2.0.1" else DemoCsms()
    url = await csms.start()
    try:
        settings = make_settings(ocpp={"url": url, "version": configured})
        result = await check_ocpp(settings, timeout_s=5.0)
        return result.verdict, result.measured
    finally:
        await csms.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_configured_version_passes_against_a_csms_that_speaks_it(version):
    verdict, measured = asyncio.run(_link(version, version))
    assert verdict is Verdict.PASS, measured


def test_a_2_0_1_unit_fails_against_a_1_6_only_csms():
    verdict, _ = asyncio.run(_link("1.6", "2.0.1"))
    assert verdict is Verdict.FAIL
