"""The service side of the readers, without a process: one presentation per card, the station
reader's connector choice, readers that fail, and the control socket's request handling."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from controller.config import ConfigError, Settings, load_settings
from controller.readers import build_readers
from controller.status import StatusServer, fetch_status, request_service
from controller.tags import ConnectorView, TagDesk, check_id_tag, pick_connector
from hw.base import RawUid
from hw.clock import SystemClock
from hw.errors import DriverUnavailable
from hw.rfid.pn532 import Pn532Reader
from hw.rfid.sim import SimReader
from hw.rfid.tag import IdTagStyle

UID = bytes.fromhex("1C78F2BF")


def _views(*pairs):
    return [ConnectorView(i + 1, plugged, tag) for i, (plugged, tag) in enumerate(pairs)]


def test_station_reader_stops_the_session_the_card_started():
    views = _views((True, None), (True, "1c78f2bf"))
    assert pick_connector(views, "1C78F2BF") == 2


def test_station_reader_starts_on_the_plugged_in_free_connector():
    assert pick_connector(_views((False, None), (True, None)), "AA") == 2
    assert pick_connector(_views((True, "BB"), (False, None)), "AA") == 2
    assert pick_connector(_views((True, "BB"), (True, "CC")), "AA") == 1


def test_id_tag_from_a_person():
    assert check_id_tag(" 1c78f2bf ") == "1C78F2BF"
    assert check_id_tag("Alice-1") == "Alice-1"  # not a UID: kept as typed
    for bad in ("", "x" * 21, "a b", "tür"):
        with pytest.raises(ValueError):
            check_id_tag(bad)


class Recorder:
    def __init__(self, accept=True):
        self.calls: list[tuple[int, str]] = []
        self.accept = accept

    async def __call__(self, connector_id: int, id_tag: str) -> bool:
        self.calls.append((connector_id, id_tag))
        return self.accept


async def test_a_resting_card_is_presented_once_and_again_after_removal():
    reader = SimReader(poll_s=0.02)
    present = Recorder()
    desk = TagDesk({1: reader}, {}, present, lambda: _views((True, None)), SystemClock())
    task = asyncio.create_task(desk.run())
    try:
        reader.put(UID)
        await asyncio.sleep(0.5)  # ~25 polls with the card on the antenna
        assert present.calls == [(1, "1C78F2BF")]
        reader.take()
        await asyncio.sleep(reader.repeat_hold_s + 0.2)
        reader.put(UID)
        await asyncio.sleep(0.2)
        assert present.calls == [(1, "1C78F2BF")] * 2
    finally:
        task.cancel()
        await desk.close()


async def test_decimal_style_and_station_reader():
    reader = SimReader(poll_s=0.02)
    present = Recorder()
    views = _views((False, None), (True, None))
    desk = TagDesk(
        {None: reader}, {None: IdTagStyle.DECIMAL}, present, lambda: views, SystemClock()
    )
    task = asyncio.create_task(desk.run())
    try:
        reader.put(UID)
        await asyncio.sleep(0.2)
        assert present.calls == [(2, "3220338716")]
    finally:
        task.cancel()


class Flaky:
    """Missing at first, then raises from read(), then works: the loop must survive."""

    repeat_hold_s = 1.5

    def __init__(self):
        self.starts = 0
        self.closes = 0

    async def start(self):
        self.starts += 1
        if self.starts == 1:
            raise DriverUnavailable("no reader; plug it in")

    async def read(self):
        await asyncio.sleep(0.01)
        if self.starts == 2:
            raise RuntimeError("reader firmware crashed")
        return RawUid(UID, "flaky")

    async def close(self):
        self.closes += 1


async def test_a_failing_reader_is_restarted_and_never_stops_the_service(monkeypatch, caplog):
    monkeypatch.setattr("controller.tags.RESTART_S", 0.05)
    reader = Flaky()
    present = Recorder()
    desk = TagDesk({1: reader}, {}, present, lambda: _views((True, None)), SystemClock())
    task = asyncio.create_task(desk.run())
    try:
        for _ in range(100):
            if present.calls:
                break
            await asyncio.sleep(0.02)
        assert present.calls == [(1, "1C78F2BF")]
        assert reader.starts == 3 and not task.done()
        assert "unavailable: no reader" in caplog.text and "reader firmware crashed" in caplog.text
    finally:
        task.cancel()


class QueuedTaps:
    """A wedge whose second tap of the same card was typed while the first was being decided."""

    repeat_hold_s = 0.3

    def __init__(self, taps):
        self.taps = list(taps)

    async def start(self):
        pass

    async def read(self):
        await asyncio.sleep(0.01)
        return RawUid(self.taps.pop(0), "wedge") if self.taps else None

    async def close(self):
        pass


async def test_a_tap_during_a_slow_authorize_is_not_a_second_presentation():
    calls = []

    async def slow_present(connector_id, id_tag):
        calls.append(id_tag)
        await asyncio.sleep(0.6)  # longer than the hold: the CSMS takes its time
        return True

    reader = QueuedTaps([UID, UID])
    desk = TagDesk({1: reader}, {}, slow_present, lambda: _views((True, None)), SystemClock())
    task = asyncio.create_task(desk.run())
    try:
        await asyncio.sleep(1.0)
        assert calls == ["1C78F2BF"] and not reader.taps
    finally:
        task.cancel()


async def test_control_socket_requests(tmp_path):
    present = Recorder(accept=False)
    desk = TagDesk({}, {}, present, lambda: _views((True, None)), SystemClock())
    path = tmp_path / "control.sock"

    async def boom(request):
        raise RuntimeError("handler bug")

    server = StatusServer(
        path, lambda: {"connectors": []}, {"tag": desk.handle_request, "boom": boom}
    )
    await server.start()
    try:
        ask = lambda req: asyncio.to_thread(request_service, path, req)  # noqa: E731
        assert await asyncio.to_thread(fetch_status, path) == {"connectors": []}
        answer = await ask({"request": "tag", "id_tag": "1c78f2bf", "connector_id": None})
        assert answer == {"ok": True, "id_tag": "1C78F2BF", "connector_id": 1, "accepted": False}
        assert present.calls == [(1, "1C78F2BF")]
        answer = await ask({"request": "tag", "id_tag": "AA", "connector_id": 2})
        assert not answer["ok"] and "no connector 2" in answer["error"]
        answer = await ask({"request": "tag", "id_tag": "AA", "connector_id": True})
        assert not answer["ok"]
        answer = await ask({"request": "reboot"})
        assert not answer["ok"] and "unknown request 'reboot'" in answer["error"]
        assert len(present.calls) == 1
        answer = await ask({"request": "boom"})
        assert answer == {"ok": False, "error": "the service failed to handle it: handler bug"}
        assert await asyncio.to_thread(fetch_status, path) == {"connectors": []}  # still serving

        def raw(data: bytes | None) -> dict:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(str(path))
                if data is not None:
                    s.sendall(data)  # and keep the socket open, as an old client does
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
            return json.loads(out)

        assert await asyncio.to_thread(raw, None) == {"connectors": []}  # old status client
        bad = await asyncio.to_thread(raw, b"{not json\n")
        assert not bad["ok"] and "JSON" in bad["error"]
        big = await asyncio.to_thread(raw, b"x" * 10000 + b"\n")
        assert not big["ok"] and "longer" in big["error"]
    finally:
        await server.close()


def _settings(tmp_path, text):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    return load_settings(cfg)


def test_reader_sections_build_their_drivers(tmp_path):
    s = _settings(
        tmp_path,
        '[[connector]]\nid = 1\n[connector.rfid]\ntype = "pn532"\nport = "/dev/ttyAMA0"\n'
        '[[connector]]\nid = 2\n[connector.rfid]\ntype = "rc522"\nspi_device = 1\n'
        '[rfid]\ntype = "hid"\nwedge_format = "hex"\n',
    )
    readers = build_readers(s)
    assert set(readers) == {1, 2, None}
    assert isinstance(readers[1], Pn532Reader) and readers[1].port == "/dev/ttyAMA0"
    assert type(readers[2]).__name__ == "Rc522Reader" and readers[2].spi_device == 1
    assert type(readers[None]).__name__ == "HidWedgeReader"
    assert build_readers(Settings()) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[rfid]\ntype = "mifare"\n', "rfid.type"),
        ('[rfid]\ntype = "hid"\nwedge_format = "octal"\n', "rfid.wedge_format"),
        ('[rfid]\ntype = "pn532"\nbaudrate = 300\n', "rfid.baudrate"),
        (
            '[rfid]\ntype = "pn532"\n[[connector]]\nid = 1\n[connector.rfid]\ntype = "pn532"\n',
            "both use /dev/serial0",
        ),
        (
            '[[connector]]\nid = 1\ndriver = "sysfs_pwm"\n[connector.rfid]\ntype = "rc522"\n',
            "pilot ADC both use spi0.0",
        ),
    ],
)
def test_reader_config_mistakes_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, text)
