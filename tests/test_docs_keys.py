"""The documentation and the example configuration name only keys that `check-config` accepts.

Keys are found where a reader finds them: TOML blocks and backticked names in docs/*.md and the
README, and every key line (commented out or not) of systemd/config.example.toml. TOML is run
through the real `chargectl check-config`; backticked names are checked against the settings
model, which forbids unknown keys.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import attrs
import pytest

from controller.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
EXAMPLE = ROOT / "systemd" / "config.example.toml"

# Backticked snake_case names in the docs that are not configuration keys, and where they are.
NOT_CONFIG = {
    "ev_ignores_pause",  # hw.sim.SimulatorSettings, set by tests only (docs/hardware.md)
    "duty_cycle",  # the sysfs PWM attribute file (docs/hardware.md)
    "cp_v",  # the variable of the ADC calibration formula (docs/hardware.md)
    "docs_hil_md_column",  # a field of the --hil report (docs/hil.md)
    "gap_s",  # the line's inter-frame gap in the bus-budget formula (docs/modbus.md)
}


def _model_of(annotation):
    """The settings model inside an annotation such as `X`, `X | None` or `list[X]`."""
    if attrs.has(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _paths(model=Settings, prefix=""):
    out = set()
    for field in attrs.fields(attrs.resolve_types(model)):
        path = prefix + field.name
        out.add(path)
        sub = _model_of(field.type)
        if sub is not None:
            out |= _paths(sub, path + ".")
    return out


PATHS = _paths()
BARE = {p.rsplit(".", 1)[-1] for p in PATHS}
TOP = {p for p in PATHS if "." not in p}


def _literal_values(model=Settings):
    """Every allowed string value (driver, board and meter names), which the docs name too."""
    out = set()
    for field in attrs.fields(attrs.resolve_types(model)):
        stack = [field.type]
        while stack:
            ann = stack.pop()
            if attrs.has(ann):
                out |= _literal_values(ann)
            elif isinstance(ann, str):
                out.add(ann)
            else:
                stack.extend(getattr(ann, "__args__", ()))
    return out


VALUES = _literal_values()


def _flatten(data, prefix=""):
    for key, value in data.items():
        path = prefix + key
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                yield from _flatten(item, path + ".")
        elif isinstance(value, dict):
            yield path
            yield from _flatten(value, path + ".")
        else:
            yield path


def _check_config(tmp_path, text, name="config.toml"):
    cfg = tmp_path / name
    cfg.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "controller", "check-config", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _toml_blocks():
    for doc in DOCS:
        for i, m in enumerate(re.finditer(r"```toml\n(.*?)```", doc.read_text(), re.S)):
            yield pytest.param(m.group(1), id=f"{doc.name}#{i}")


@pytest.mark.parametrize("block", list(_toml_blocks()))
def test_every_toml_block_in_the_docs_passes_check_config(tmp_path, block):
    text = block
    if "[[connector]]" not in text and "[connector." in text:
        # A fragment of a connector (e.g. only its meter): give it the connector it belongs to.
        text = "[[connector]]\nid = 1\n" + text
    out = _check_config(tmp_path, text)
    assert out.returncode == 0, out.stderr
    effective = json.loads(out.stdout)
    for path in _flatten(tomllib.loads(text)):
        node = effective
        for part in path.split("."):
            node = node[0] if isinstance(node, list) else node
            assert part in node, f"{path} is not in the effective configuration"
            node = node[part]


def _backticked():
    for doc in DOCS:
        for m in re.finditer(r"`([^`\n]+)`", doc.read_text()):
            yield doc.name, m.group(1)


def test_every_dotted_key_and_table_named_in_the_docs_exists():
    named = 0
    for doc, token in _backticked():
        table = re.fullmatch(r"\[\[?([a-z_.]+)\]?\]", token)
        dotted = re.fullmatch(r"([a-z_]+)\.([a-z_.*]+)", token)
        if table:
            named += 1
            assert table.group(1) in PATHS, f"{doc}: table `{token}` does not exist"
        elif dotted and dotted.group(1) in TOP:
            named += 1
            path = token.removesuffix(".*")
            assert path in PATHS, f"{doc}: `{token}` is not a configuration key"
    assert named > 20  # the README's key table alone names more


def test_every_key_like_name_in_the_docs_is_a_configuration_key():
    key_like = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
    unknown = set()
    checked = set()
    for doc, token in _backticked():
        name = token.split("=")[0].strip()
        if not key_like.fullmatch(name) or name.startswith("chargectl_"):
            continue  # chargectl_* are the Prometheus metrics the README lists
        checked.add(name)
        if name not in BARE | VALUES | NOT_CONFIG:
            unknown.add(f"{doc}: `{name}`")
    assert not unknown, sorted(unknown)
    # The [pilot] timings the hardware page documents are among them.
    assert {"startup_hold_s", "c_enter_debounce_s", "capped_min_pause_s"} <= checked


def _uncommented_example():
    """The example with every commented-out key and table switched on."""
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        m = re.match(r"#\s?(\[[a-z_.\[\]]+\].*|[a-z_]+ = \S.*)$", line)
        lines.append(m.group(1) if m else line)
    return "\n".join(lines) + "\n"


def test_the_example_config_passes_check_config_as_shipped(tmp_path):
    out = _check_config(tmp_path, EXAMPLE.read_text())
    assert out.returncode == 0, out.stderr


def test_every_key_of_the_example_config_is_accepted_by_check_config(tmp_path):
    text = _uncommented_example()
    data = tomllib.loads(text)
    keys = set(_flatten(data))
    assert {"ocpp.password", "connector.pilot.adc_offset_v", "connector.modbus.board"} <= keys
    out = _check_config(tmp_path, text)
    assert out.returncode == 0, out.stderr
    effective = json.loads(out.stdout)
    assert effective["ocpp"]["password"] == "****"
    assert effective["connector"][0]["meter"]["type"] == "sdm630"
    assert effective["pilot"]["capped_min_pause_s"] == 300


def test_the_example_config_points_only_to_docs_that_exist():
    text = EXAMPLE.read_text()
    for target in re.findall(r"\b(docs/[a-z0-9_-]+\.md)", text):
        assert (ROOT / target).is_file(), target
    readme_sections = {
        m.group(1).strip().lower()
        for m in re.finditer(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M)
    }
    for section in re.findall(r'README, "([^"]+)"', text):
        assert section.lower() in readme_sections, f"README has no section {section!r}"
