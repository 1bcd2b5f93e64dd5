"""The RFID step of the end-of-line test: the operator (or the rig) presents the test card and
the charger's own reader, through the same driver the service uses, must read it in time.

`check_card` is the verdict, free of I/O; `read_test_card` is the bounded wait on the reader.
A wrong card fails at once instead of waiting out the timeout: the operator is standing there
with the card in hand and wants to know now.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from controller.selftest.checks import StepResult, Verdict
from hw.base import TokenReader
from hw.errors import DriverUnavailable
from hw.rfid.tag import BadUid, IdTagStyle, id_tag_for

STEP = "RFID test card"
DEFAULT_TIMEOUT_S = 20.0
ID_TAG_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_test_card(text: str) -> str:
    """The `--test-card` idTag, uppercase; raises ValueError for what can never be read."""
    wanted = text.strip().upper()
    if not 1 <= len(wanted) <= 20 or not set(wanted) <= ID_TAG_CHARS:
        raise ValueError(f"{text!r} is not an idTag: 1 to 20 letters or digits, e.g. 1C78F2BF")
    return wanted


def check_card(
    id_tag: str | None, wanted: str | None, waited_s: float, timeout_s: float
) -> StepResult:
    """`id_tag`: the formatted idTag of the first card read, None when none came in time."""
    expected = f"card {wanted}" if wanted else "any card"
    expected += f" within {timeout_s:g} s"
    values = (("waited_s", round(waited_s, 3)),)
    if id_tag is None:
        detail = "no card read: present the test card flat on the reader's antenna"
        return StepResult(STEP, Verdict.FAIL, "no card", expected, detail, values)
    measured = f"{id_tag} after {waited_s:.1f} s"
    if wanted is not None and id_tag.upper() != wanted:
        detail = f"wrong card: read {id_tag}, expected {wanted}"
        return StepResult(STEP, Verdict.FAIL, measured, expected, detail, values)
    return StepResult(STEP, Verdict.PASS, measured, expected, "", values)


async def read_test_card(
    reader: TokenReader,
    style: IdTagStyle,
    wanted: str | None,
    timeout_s: float,
    announce: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
) -> StepResult:
    """Start the reader, ask for the card, poll until a card or the deadline; always closes."""
    try:
        await reader.start()
    except DriverUnavailable as exc:
        return StepResult(STEP, Verdict.FAIL, "reader unavailable", "reader answers", str(exc))
    try:
        card = f"the test card {wanted}" if wanted else "the test card"
        announce(f"RFID: present {card} to the reader (waiting up to {timeout_s:g} s)")
        started = clock()
        while (waited_s := clock() - started) < timeout_s:
            raw = await reader.read()
            if raw is None:
                continue
            try:
                id_tag = id_tag_for(raw.uid, style)
            except BadUid as exc:
                detail = f"unusable UID {raw.uid.hex().upper()}: {exc}"
                return StepResult(STEP, Verdict.FAIL, "bad UID", "a card", detail)
            return check_card(id_tag, wanted, clock() - started, timeout_s)
        return check_card(None, wanted, waited_s, timeout_s)
    finally:
        await reader.close()
