"""`[ocpp] version` picks the adapter: 1.6 by default, 2.0.1 when asked, anything else a
configuration error naming what is allowed; the environment overrides it like any key."""

from __future__ import annotations

import pytest

from controller.app import Charger
from controller.config import ConfigError, load_settings
from controller.ocpp.service import ChargePointService
from controller.ocpp201.service import ChargingStationService


def _write(tmp_path, text):
    p = tmp_path / "config.toml"
    p.write_text(text + f'\n[state]\ndir = "{tmp_path / "state"}"\n[web]\nenabled = false\n')
    return p


def test_an_unknown_version_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, '[ocpp]\nversion = "2.0"\n'))
    assert "ocpp.version = '2.0'" in str(err.value)
    assert "'1.6' or '2.0.1'" in str(err.value)


def test_the_environment_picks_the_version(tmp_path, monkeypatch):
    assert load_settings(_write(tmp_path, "")).ocpp.version == "1.6"
    monkeypatch.setenv("CHARGECTL_OCPP__VERSION", "2.0.1")
    assert load_settings(_write(tmp_path, '[ocpp]\nversion = "1.6"\n')).ocpp.version == "2.0.1"


@pytest.mark.parametrize(
    ("version", "adapter", "queue_file"),
    [
        ("1.6", ChargePointService, "ocpp.sqlite"),
        ("2.0.1", ChargingStationService, "ocpp201.sqlite"),
    ],
)
async def test_the_charger_builds_the_adapter_of_its_version(
    tmp_path, version, adapter, queue_file
):
    settings = load_settings(_write(tmp_path, f'[ocpp]\nversion = "{version}"\n'))
    (tmp_path / "state").mkdir()
    charger = Charger(settings)
    try:
        assert type(charger.ocpp) is adapter
        assert (tmp_path / "state" / queue_file).exists()
    finally:
        await charger.ocpp.aclose()
        charger.profiles.close()
