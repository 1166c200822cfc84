"""The VPA baseline: its target, bounds, confidence, pod minimum, daily peaks and OOM samples."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kubewise.rightsizing.vpa import VpaContainerState, vpa_recommend

DAY = 86400.0
MIB = 1024.0 * 1024.0


def _state(
    days: float, seed: int = 5, request: float = 0.5
) -> tuple[VpaContainerState, list[float], list[float]]:
    rng = random.Random(seed)
    state = VpaContainerState()
    cpus, peaks = [], [0.0] * (int(days) + 1)
    for minute in range(int(days * 1440)):
        cpu, memory = rng.lognormvariate(-1.0, 0.4), rng.uniform(300, 500) * MIB
        state.add_sample(cpu, memory, at=minute * 60.0, cpu_request_cores=request)
        cpus.append(cpu)
        peaks[minute // 1440] = max(peaks[minute // 1440], memory)
    return state, cpus, peaks


def test_target_is_p90_plus_15_percent() -> None:
    state, cpus, peaks = _state(3)
    estimate = vpa_recommend({"app": state})["app"]
    exact_cpu = float(np.quantile(cpus, 0.9)) * 1000 * 1.15
    assert exact_cpu * 0.95 <= estimate.target_cpu_millicores <= exact_cpu * 1.12
    # memory: one peak a day, so the target is (about) the highest daily peak x 1.15
    assert max(peaks) * 1.15 <= estimate.target_memory_bytes <= max(peaks) * 1.15 * 1.06


def test_bounds_narrow_as_confidence_grows() -> None:
    young, _, _ = _state(0.5)
    old, _, _ = _state(6)
    y, o = vpa_recommend({"app": young})["app"], vpa_recommend({"app": old})["app"]
    assert young.confidence_days() == pytest.approx(0.5, abs=0.01)
    # upper bound multiplier (1 + 1/c): x3 at half a day, x1.17 at six days
    assert y.upper_cpu_millicores / y.target_cpu_millicores > 2.5
    assert o.upper_cpu_millicores / o.target_cpu_millicores < 1.5
    assert y.lower_cpu_millicores < y.target_cpu_millicores < y.upper_cpu_millicores


def test_pod_minimum_is_split_over_containers() -> None:
    states = {}
    for name in ("a", "b"):
        state = VpaContainerState()
        for minute in range(1440):
            state.add_sample(0.001, 1 * MIB, at=minute * 60.0, cpu_request_cores=0.1)
        states[name] = state
    estimates = vpa_recommend(states)
    assert estimates["a"].target_cpu_millicores == pytest.approx(12.5)
    assert estimates["b"].target_memory_bytes == pytest.approx(125 * MIB)
    assert vpa_recommend({}) == {}


def test_cpu_samples_are_weighted_by_the_request() -> None:
    state = VpaContainerState()
    for minute in range(1440):
        # low usage under a big request, high usage under a small one: the big request's samples dominate
        big = minute % 2 == 0
        state.add_sample(
            0.1 if big else 1.0, 100 * MIB, at=minute * 60.0, cpu_request_cores=4.0 if big else 0.1
        )
    assert vpa_recommend({"app": state})["app"].target_cpu_millicores < 200


def test_oom_adds_a_bumped_sample() -> None:
    state, _, _ = _state(2)
    before = vpa_recommend({"app": state})["app"].target_memory_bytes
    state.add_oom(2 * DAY - 60, memory_request_bytes=1024 * MIB)
    after = vpa_recommend({"app": state})["app"].target_memory_bytes
    assert after > before
    # the window's peak is replaced by max(1 GiB + 100 MiB, 1.2 GiB), p90 of the two daily peaks is it
    assert after >= 1.2 * 1024 * MIB * 1.15
