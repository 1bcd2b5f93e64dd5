"""How long the smart-charging engine takes: the seed's limit, and a 24 h composite of 100
profiles with 24 periods each."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from controller.smart_charging import ProfileStore, SmartChargingConfig

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def _profile(
    pid: int, stack: int, purpose: str, kind: str, periods: list[tuple[int, float]], **extra: object
) -> dict[str, object]:
    sched: dict[str, object] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
    }
    sched.update({k: v for k, v in extra.items() if k in ("startSchedule", "duration")})
    p: dict[str, object] = {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": sched,
    }
    p.update({k: v for k, v in extra.items() if k == "recurrencyKind"})
    return p


def _best_of(fn: object, repeat: int, number: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - t) / number)
    return best


def seed_store() -> ProfileStore:
    s = ProfileStore(SmartChargingConfig())
    s.transaction_started(1, 42, T0)
    s.set_charging_profile(1, _profile(1001, 1, "TxProfile", "Relative", [(0, 0)]), T0)
    s.set_charging_profile(1, _profile(1002, 10, "TxProfile", "Relative", [(0, 16)]), T0)
    return s


def big_store() -> ProfileStore:
    cfg = SmartChargingConfig(max_profiles=100, max_stack_level=100, max_periods=24)
    s = ProfileStore(cfg)
    s.transaction_started(1, 42, T0)
    for i in range(100):
        # 24 quarter-hours each, so every profile covers 6 h and the layers interleave.
        periods = [(h * 900, float(6 + (i + h) % 26)) for h in range(24)]
        start = (T0 - timedelta(hours=i % 24)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if i % 3 == 0:
            p = _profile(
                i + 1,
                i,
                "TxDefaultProfile",
                "Recurring",
                periods,
                startSchedule=start,
                recurrencyKind="Daily",
            )
        elif i % 3 == 1:
            p = _profile(
                i + 1,
                i,
                "TxDefaultProfile",
                "Absolute",
                periods,
                startSchedule=start,
                duration=21600,
            )
        else:
            p = _profile(i + 1, i, "TxProfile", "Relative", periods, duration=21600)
        r = s.set_charging_profile(1 if i % 3 == 2 else 0, p, T0)
        assert r.accepted, r.reason
    return s


def run() -> list[tuple[str, str, str]]:
    seed = seed_store()
    now = T0 + timedelta(minutes=7)
    per_limit = _best_of(lambda: seed.limit_at(1, now), repeat=5, number=5000)
    big = big_store()
    per_composite = _best_of(lambda: big.composite_schedule(1, now, 86400, "A"), 5, 20)
    per_big_limit = _best_of(lambda: big.limit_at(1, now), 5, 20)
    return [
        ("limit evaluation, seed's two profiles", f"{per_limit * 1e6:.1f} us", "<= 50 us"),
        ("24 h composite, 100 profiles x 24 periods", f"{per_composite * 1e3:.2f} ms", "<= 5 ms"),
        ("limit evaluation, 100 profiles x 24 periods", f"{per_big_limit * 1e3:.2f} ms", "-"),
    ]
