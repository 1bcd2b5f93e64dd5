"""`chargectl demo --plot`: the story as a chart; matplotlib is an optional extra."""

from __future__ import annotations

import importlib.util
import sys

from controller.demo.timeline import Story


def missing_plot_extra() -> str | None:
    """Why `--plot` cannot work here, checked before a 40 s story rather than after it."""
    if importlib.util.find_spec("matplotlib") is not None:
        return None
    return (
        "demo --plot needs matplotlib, which is not installed. Install the plot extra, in the\n"
        f"checkout of chargectl:  {sys.executable} -m pip install -e '.[plot]'\n"
        "or run the demo without --plot."
    )


def plot_story(story: Story, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r.t_s for r in story.rows]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.step(t, [r.offered_a for r in story.rows], where="post", label="offered (pilot)")
    ax.step(t, [r.drawn_a for r in story.rows], where="post", label="drawn by the car")
    for at, text in story.events:
        if text.startswith("CSMS:") and "GetCompositeSchedule" not in text:
            ax.axvline(at, color="grey", linestyle=":", linewidth=1)
            ax.annotate(
                text.removeprefix("CSMS: ").split(" (")[0],
                (at, 33),
                rotation=90,
                fontsize=7,
                va="top",
                ha="right",
            )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("current (A)")
    ax.set_ylim(-1, 35)
    ax.set_title("chargectl demo: pause with TxProfile 1001 (0 A), resume with 1002 (16 A)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
