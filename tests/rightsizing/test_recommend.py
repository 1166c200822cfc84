"""recommend: percentiles + margin, min data, bounds, OOM bump-up, observed-max floor, limit policies."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from kubewise.rightsizing import (
    ContainerUsage,
    Requests,
    RightsizingSettings,
    WorkloadUsage,
    recommend,
)

HOUR = 3600.0
MIB = 1024.0 * 1024.0
DEFAULT = RightsizingSettings()


def _usage(hours: float, cpu: list[float] | None = None, seed: int = 3) -> tuple[ContainerUsage, list[float]]:
    """A container sampled every minute for `hours`: CPU ~ lognormal around 0.3 cores, memory ~ 400 MiB."""
    rng = random.Random(seed)
    usage = ContainerUsage.empty()
    cpus: list[float] = []
    for minute in range(int(hours * 60) + 1):
        value = cpu[minute % len(cpu)] if cpu else rng.lognormvariate(-1.2, 0.3)
        cpus.append(value)
        usage.add_sample(value, (400 + rng.uniform(-20, 20)) * MIB, at=minute * 60.0)
    return usage, cpus


def _now(usage: ContainerUsage) -> float:
    assert usage.last_sample_at is not None
    return usage.last_sample_at


def test_no_recommendation_before_min_data_hours_and_the_reason_says_so() -> None:
    usage, _ = _usage(12.5)
    result = recommend({"app": usage}, {"app": Requests(500, 512 * MIB)}, DEFAULT, now=_now(usage))
    assert result.containers == ()
    assert result.reason == "12.5 h of usage data, 24 h needed"
    assert result.data_hours == pytest.approx(12.5)
    shorter = dataclasses.replace(DEFAULT, min_data_hours=12)
    assert recommend({"app": usage}, {}, shorter, now=_now(usage)).reason is None


def test_a_container_without_data_is_named() -> None:
    usage, _ = _usage(30)
    result = recommend({"app": usage}, {"app": Requests(1, 1), "sidecar": Requests(1, 1)}, DEFAULT, 0.0)
    assert result.containers == ()
    assert result.reason is not None and "sidecar" in result.reason
    assert recommend({}, {}, DEFAULT, 0.0).reason is not None


def test_cpu_is_the_percentile_plus_margin() -> None:
    usage, cpus = _usage(48)
    [rec] = recommend(
        {"app": usage}, {"app": Requests(2000, 2048 * MIB)}, DEFAULT, now=_now(usage)
    ).containers
    # decay favours recent samples, but on a stationary series the percentile stays within a bucket or two
    exact = float(np.quantile(cpus, 0.9)) * 1000 * 1.15
    assert exact * 0.95 <= rec.cpu_millicores <= exact * 1.12
    assert rec.cpu_millicores == int(rec.cpu_millicores)  # whole millicores


def test_memory_covers_the_highest_peak_unless_told_otherwise() -> None:
    usage, _ = _usage(48)
    usage.add_sample(0.3, 1500 * MIB, at=_now(usage) + 60)  # one spike
    now = _now(usage)
    [rec] = recommend({"app": usage}, {}, DEFAULT, now).containers
    assert rec.memory_bytes >= 1500 * MIB
    assert rec.memory_bytes % MIB == 0  # whole MiB
    no_floor = dataclasses.replace(DEFAULT, memory_floor_observed_max=False)
    [lower] = recommend({"app": usage}, {}, no_floor, now).containers
    # p95 of 49 hourly peaks ignores the single spike: ~420 MiB x 1.15
    assert 440 * MIB <= lower.memory_bytes <= 520 * MIB


def test_oom_bumps_memory_above_the_kill_and_ages_out() -> None:
    usage, _ = _usage(48)
    now = _now(usage)
    usage.add_oom(now - HOUR, 1024 * MIB)
    [rec] = recommend({"app": usage}, {}, DEFAULT, now).containers
    assert rec.memory_bytes >= 1.2 * 1024 * MIB
    usage.add_oom(now, 200 * MIB)  # the last kill counts; at small sizes +100 MiB is more than x1.2
    [small] = recommend(
        {"app": usage}, {}, dataclasses.replace(DEFAULT, memory_floor_observed_max=False), now
    ).containers
    assert small.memory_bytes >= 300 * MIB
    [later] = recommend({"app": usage}, {}, DEFAULT, now + 8 * 24 * HOUR).containers
    assert later.memory_bytes < 1.2 * 1024 * MIB


def test_bounds_win() -> None:
    usage, _ = _usage(30, cpu=[0.001])
    [low] = recommend({"app": usage}, {}, DEFAULT, _now(usage)).containers
    assert low.cpu_millicores == DEFAULT.min_cpu_millicores
    big, _ = _usage(30, cpu=[100.0])
    big.add_oom(_now(big), 400 * 1024 * MIB)
    capped = dataclasses.replace(DEFAULT, max_cpu_millicores=8000, max_memory_bytes=16 * 1024 * MIB)
    [high] = recommend({"app": big}, {}, capped, _now(big)).containers
    assert high.cpu_millicores == 8000
    assert high.memory_bytes == 16 * 1024 * MIB  # the cap wins even over the OOM bump
    tiny = dataclasses.replace(DEFAULT, min_memory_bytes=2048 * MIB)
    [floor] = recommend({"app": usage}, {}, tiny, _now(usage)).containers
    assert floor.memory_bytes == 2048 * MIB


@pytest.mark.parametrize(
    ("policy", "current", "expected"),
    [
        ("keep-ratio", Requests(500, 512 * MIB, 1000, 1024 * MIB), 2.0),
        ("keep-ratio", Requests(500, 512 * MIB), None),
        ("remove", Requests(500, 512 * MIB, 1000, 1024 * MIB), None),
        ("equal-to-request", Requests(500, 512 * MIB), 1.0),
    ],
)
def test_limit_policies(policy: str, current: Requests, expected: float | None) -> None:
    usage, _ = _usage(30)
    settings = dataclasses.replace(DEFAULT, memory_limit_policy=policy, cpu_limit_policy=policy)  # type: ignore[arg-type]
    [rec] = recommend({"app": usage}, {"app": current}, settings, _now(usage)).containers
    if expected is None:
        assert rec.memory_limit_bytes is None and rec.cpu_limit_millicores is None
    else:
        assert rec.memory_limit_bytes == pytest.approx(rec.memory_bytes * expected, abs=1)
        assert rec.cpu_limit_millicores == pytest.approx(rec.cpu_millicores * expected, abs=1)


def test_a_limit_is_never_set_below_its_request() -> None:
    usage, _ = _usage(30)
    [rec] = recommend({"app": usage}, {"app": Requests(None, None, 10, 10)}, DEFAULT, _now(usage)).containers
    assert rec.cpu_limit_millicores is not None and rec.cpu_limit_millicores >= rec.cpu_millicores
    assert rec.memory_limit_bytes is not None and rec.memory_limit_bytes >= rec.memory_bytes


def test_deterministic_and_usage_untouched() -> None:
    usage, _ = _usage(30)
    workload: WorkloadUsage = {"b": usage, "a": _usage(30, seed=9)[0]}
    before = {name: u.to_json() for name, u in workload.items()}
    first = recommend(workload, {}, DEFAULT, _now(usage))
    assert first == recommend(workload, {}, DEFAULT, _now(usage))
    assert [c.container for c in first.containers] == ["a", "b"]
    assert {name: u.to_json() for name, u in workload.items()} == before


@pytest.mark.parametrize(
    "change",
    [
        {"cpu_percentile": 0},
        {"safety_margin": -0.1},
        {"oom_bump": 0.5},
        {"min_cpu_millicores": 100, "max_cpu_millicores": 50},
        {"memory_limit_policy": "double"},
    ],
)
def test_bad_settings_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RightsizingSettings(**change)  # type: ignore[arg-type]


def test_kills_in_a_row_compound_the_bump() -> None:
    usage, _ = _usage(30)
    now = _now(usage)
    settings = dataclasses.replace(DEFAULT, memory_floor_observed_max=False)
    usage.add_oom(now - 600, 1000 * MIB)
    usage.add_oom(now - 300, 1200 * MIB)  # five minutes later: the first bump was not enough
    [rec] = recommend({"app": usage}, {}, settings, now).containers
    assert rec.memory_bytes >= 1200 * MIB * 1.2**2
    apart, _ = _usage(30)
    apart.add_oom(now - 10 * HOUR, 1000 * MIB)
    apart.add_oom(now - 300, 1200 * MIB)  # hours apart: not a loop, one bump
    [single] = recommend({"app": apart}, {}, settings, now).containers
    assert 1200 * MIB * 1.2 <= single.memory_bytes < 1200 * MIB * 1.2 + 2 * MIB
