"""`kill -9` mid-session, then a restart, against the strict ocpp-rpc CSMS: the group
(parentIdTag) of the card that started the session came only from the CSMS's answers, the
authorization cache is off and there is no local list, so after the restart only the group
stored with the open transaction can tell that another card of the same group may stop it."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from service_proc import Service, wait_status, write_config
from strict_csms import StrictCsms

CP = "CP-GROUP-K9"

pytestmark = pytest.mark.skipif(
    StrictCsms.available() is not None, reason=str(StrictCsms.available())
)


async def _tag(cfg, id_tag):
    """`chargectl tag`, as a person at the console would; its exit status (0: accepted)."""
    args = [sys.executable, "-m", "controller", "tag", id_tag, "--config", str(cfg)]
    done = await asyncio.to_thread(subprocess.run, args, capture_output=True, timeout=90)
    return done.returncode


def _booted(pid):
    return lambda d: d["pid"] == pid and d["csms"]["state"] == "booted"


async def _story(tmp_path):
    async with StrictCsms.start() as csms:
        fleet = {"status": "Accepted", "parentIdTag": "FLEET"}
        answers = {"K9-A": fleet, "K9-B": fleet, "K9-C": {"status": "Accepted"}}
        for tag, info in answers.items():
            await csms.set_response("Authorize", {"idTagInfo": info}, id_tag=tag)
        web_off = "[web]\nenabled = false\n"
        cfg = write_config(tmp_path, csms.port, web_off, resume=True, cp=CP, free_vend=None)
        service = await Service(cfg).start()
        try:
            await wait_status(cfg, _booted(service.proc.pid))
            await csms.wait_connected(CP, 10)
            off = {"key": "AuthorizationCacheEnabled", "value": "false"}
            assert (await csms.call(CP, "ChangeConfiguration", off))["status"] == "Accepted"
            assert await _tag(cfg, "K9-A") == 0
            start = await csms.wait_for_call("StartTransaction", timeout=30)
            assert start["payload"]["idTag"] == "K9-A"
            await wait_status(
                cfg,
                lambda d: (
                    (d["connectors"][0]["transaction"] or {}).get("transaction_id") is not None
                ),
            )
            await service.kill9()

            mark = len(csms.events)
            service = await Service(cfg).start()
            await wait_status(cfg, _booted(service.proc.pid))
            await csms.wait_connected(CP, 10, since=mark)
            doc = await wait_status(cfg, lambda d: d["connectors"][0]["transaction"] is not None)
            assert doc["connectors"][0]["transaction"]["id_tag"] == "K9-A"
            assert await _tag(cfg, "K9-C") == 1  # accepted, but in no group: may not stop it
            assert await _tag(cfg, "K9-B") == 0
            stop = await csms.wait_for_call("StopTransaction", timeout=30, since=mark)
            assert stop["payload"]["idTag"] == "K9-B" and stop["payload"]["reason"] == "Local"
        finally:
            await service.stop()
        assert not csms.calls("StopTransaction")[1:]
        assert csms.violations == [], csms.violations
    return service.log


@pytest.mark.slow
def test_a_card_of_the_starters_group_stops_the_session_after_kill_9(tmp_path):
    log = asyncio.run(asyncio.wait_for(_story(tmp_path), 150))
    assert "Traceback" not in log
