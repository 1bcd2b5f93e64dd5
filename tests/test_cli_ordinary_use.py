"""Ordinary use of the command line ends with a sentence, never a traceback."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENARIO = Path(__file__).parent / "smart_charging" / "scenarios" / "composite_24h_with_gap.json"


def _closed_pipe():
    """A pipe whose reader is already gone, like `| head` after its first lines."""
    r, w = os.pipe()
    os.close(r)
    return w


@pytest.mark.parametrize("table", [True, False], ids=["table", "json"])
def test_replay_into_a_closed_pipe_ends_quietly(table):
    w = _closed_pipe()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "controller", "replay", str(SCENARIO)]
            + (["--table"] if table else []),
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(w)
    assert out.stderr == ""
    assert out.returncode == 141  # 128 + SIGPIPE, as a shell reports `yes | head`


def test_demo_plot_without_matplotlib_says_how_to_install_it_at_once(tmp_path):
    # matplotlib is blocked the way Python itself does: a None entry in sys.modules.
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "from controller.cli import main; "
        f"sys.exit(main(['demo', '--plot', {str(tmp_path / 'demo.png')!r}]))"
    )
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    elapsed_s = time.monotonic() - started
    assert out.returncode == 64, out.stderr
    assert "Traceback" not in out.stderr
    assert "matplotlib" in out.stderr and "pip install -e '.[plot]'" in out.stderr
    assert out.stdout == ""  # the story did not start
    assert elapsed_s < 20  # generous: it used to fail only after the 40 s story
    assert not (tmp_path / "demo.png").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--csms", "http://csms.example"],
            "demo --csms 'http://csms.example': must start with ws://",
        ),
        (["--charge-point-id", "a/b"], "demo --charge-point-id 'a/b': must not contain '/'"),
        (["--plot", "/nonexistent-dir/demo.png"], "cannot write into /nonexistent-dir"),
    ],
    ids=["http-url", "slash-in-id", "plot-dir-missing"],
)
def test_demo_argument_mistakes_are_one_sentence_at_once(args, says):
    out = subprocess.run(
        [sys.executable, "-m", "controller", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 64, out.stderr
    assert says in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
    assert out.stdout == ""
