"""docs/replay.md equals the code: its example replays to the output it shows, and its tables
list exactly the actions and configuration keys (with their defaults) that replay accepts."""

import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from controller.replay_scenario import _CONFIG_KEYS, ACTIONS
from controller.smart_charging import SmartChargingConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "replay.md"


def _block(lang):
    m = re.search(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)
    assert m, f"no {lang} block in {DOC.name}"
    return m.group(1)


def _table_rows(heading):
    section = DOC.read_text().split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, re.M)


def test_the_documented_example_replays_to_the_documented_timeline(tmp_path):
    scenario = tmp_path / "example.json"
    scenario.write_text(_block("json"))
    out = subprocess.run(
        [sys.executable, "-m", "controller", "replay", str(scenario), "--table"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == _block("text")


def test_the_documented_json_answers_are_what_replay_prints(tmp_path):
    scenario = tmp_path / "example.json"
    scenario.write_text(_block("json"))
    out = subprocess.run(
        [sys.executable, "-m", "controller", "replay", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = json.loads(out.stdout)["results"][-1]
    periods = last["response"]["chargingSchedule"]["chargingSchedulePeriod"]
    text = DOC.read_text()
    assert json.dumps(periods) in text
    assert f"`limitAtNow` {last['limitAtNow']}" in text


def test_every_action_is_documented():
    assert {name for name, _ in _table_rows("### `events`")} == set(ACTIONS)


def test_every_config_key_is_documented_with_its_default():
    defaults = {f.name: f.default for f in fields(SmartChargingConfig)}
    rows = dict(_table_rows("### `config`"))
    assert set(rows) == set(_CONFIG_KEYS)
    for key, (name, kind) in _CONFIG_KEYS.items():
        shown = rows[key].strip()
        default = defaults[name]
        if kind is str:
            assert shown == f'`"{",".join(default)}"`', key
        else:
            assert float(shown) == float(default), (key, shown, default)
