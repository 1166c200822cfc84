"""The Kubernetes VPA recommender's published estimator (pure): the baseline ours is measured against.

Used by `benchmarks/rightsizing.py` only, which feeds it the same samples as `recommend`. It follows
the algorithm the VPA's recommender documents (vertical-pod-autoscaler/pkg/recommender, defaults of
its flags), written here from that description:
- CPU: a decaying histogram (half-life 24 h) of the usage samples, each weighted by the container's
  CPU request at the time (at least 0.1 core): the "load-adjusted" weight.
- Memory: a decaying histogram of one peak per 24 h window (weight 1). An OOM kill adds a sample of
  max(memory + 100 MiB, memory x 1.2), where memory is the larger of the request at the kill and the
  window's peak -- a sample like any other, that can replace the window's peak.
- Target = 90th percentile x 1.15; lower bound = 50th percentile x 1.15 x (1 + 0.001/c)^-2; upper
  bound = 95th percentile x 1.15 x (1 + 1/c), where c is the confidence: the lesser of the history's
  length in days and the sample count over 1440 (days of one sample a minute).
- Every estimate is at least the pod minimum (25 millicores, 250 MiB) split evenly over the pod's
  containers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from kubewise.rightsizing.histogram import DecayingHistogram
from kubewise.rightsizing.usage import (
    CPU_FIRST_BUCKET_CORES,
    CPU_MAX_CORES,
    MEMORY_FIRST_BUCKET_BYTES,
    MEMORY_MAX_BYTES,
)

__all__ = ["VpaContainerState", "VpaEstimate", "vpa_recommend"]

MIB = 1024.0 * 1024.0
HALF_LIFE_SECONDS = 24 * 3600.0
MEMORY_WINDOW_SECONDS = 24 * 3600.0  # --memory-aggregation-interval
SAFETY_MARGIN = 0.15
TARGET_PERCENTILE, LOWER_PERCENTILE, UPPER_PERCENTILE = 0.9, 0.5, 0.95
POD_MIN_CPU_MILLICORES = 25.0
POD_MIN_MEMORY_BYTES = 250 * MIB
OOM_BUMP_RATIO = 1.2
OOM_MIN_BUMP_BYTES = 100 * MIB
MIN_CPU_SAMPLE_WEIGHT = 0.1  # cores


def _histogram(first: float, maximum: float) -> DecayingHistogram:
    return DecayingHistogram(first, maximum, half_life=HALF_LIFE_SECONDS)


@dataclass(slots=True)
class VpaContainerState:
    """What the VPA recommender keeps per container (its aggregate container state)."""

    cpu: DecayingHistogram = field(default_factory=lambda: _histogram(CPU_FIRST_BUCKET_CORES, CPU_MAX_CORES))
    memory: DecayingHistogram = field(
        default_factory=lambda: _histogram(MEMORY_FIRST_BUCKET_BYTES, MEMORY_MAX_BYTES)
    )
    first_sample_at: float | None = None
    last_sample_at: float | None = None
    samples: int = 0
    window_end: float | None = None
    window_peak: float = 0.0

    def add_sample(self, cpu_cores: float, memory_bytes: float, at: float, cpu_request_cores: float) -> None:
        """One measurement, with the CPU request the container had then (the CPU sample's weight)."""
        self.cpu.add(cpu_cores, max(cpu_request_cores, MIN_CPU_SAMPLE_WEIGHT), at)
        self._add_memory(memory_bytes, at)
        self.first_sample_at = at if self.first_sample_at is None else self.first_sample_at
        self.last_sample_at = at
        self.samples += 1

    def add_oom(self, at: float, memory_request_bytes: float) -> None:
        """An OOM kill: a memory sample above what the container had (its request or its peak)."""
        used = max(memory_request_bytes, self.window_peak if self._in_window(at) else 0.0)
        self._add_memory(max(used + OOM_MIN_BUMP_BYTES, used * OOM_BUMP_RATIO), at)

    def _in_window(self, at: float) -> bool:
        return self.window_end is not None and self.window_end - MEMORY_WINDOW_SECONDS <= at < self.window_end

    def _add_memory(self, memory_bytes: float, at: float) -> None:
        if self._in_window(at):
            if memory_bytes <= self.window_peak:
                return
            assert self.window_end is not None
            self.memory.subtract(self.window_peak, 1.0, self.window_end)
        else:
            # a new 24 h window starts at this sample (the VPA keeps windows aligned to the first one)
            end = (self.window_end or at) + MEMORY_WINDOW_SECONDS
            while end <= at:
                end += MEMORY_WINDOW_SECONDS
            self.window_end, self.window_peak = end, 0.0
        assert self.window_end is not None
        self.window_peak = memory_bytes
        self.memory.add(memory_bytes, 1.0, self.window_end)

    def confidence_days(self) -> float:
        if self.first_sample_at is None or self.last_sample_at is None:
            return 0.0
        lifespan = (self.last_sample_at - self.first_sample_at) / 86400.0
        return min(lifespan, self.samples / (60.0 * 24.0))


@dataclass(frozen=True, slots=True)
class VpaEstimate:
    """The VPA's three estimates for a container: CPU in millicores, memory in bytes."""

    target_cpu_millicores: float
    target_memory_bytes: float
    lower_cpu_millicores: float
    lower_memory_bytes: float
    upper_cpu_millicores: float
    upper_memory_bytes: float


def vpa_recommend(states: Mapping[str, VpaContainerState]) -> dict[str, VpaEstimate]:
    """The VPA's estimates for every container with at least one sample."""
    live = {name: state for name, state in states.items() if state.samples}
    if not live:
        return {}
    fraction = 1.0 / len(live)  # the pod minimum is split over the containers
    min_cpu, min_memory = POD_MIN_CPU_MILLICORES * fraction, POD_MIN_MEMORY_BYTES * fraction
    return {name: _estimate(state, min_cpu, min_memory) for name, state in sorted(live.items())}


def _estimate(state: VpaContainerState, min_cpu: float, min_memory: float) -> VpaEstimate:
    confidence = state.confidence_days()
    margin = 1 + SAFETY_MARGIN

    def cpu(q: float, multiplier: float = 1.0) -> float:
        return max(state.cpu.percentile(q) * 1000.0 * margin * multiplier, min_cpu)

    def memory(q: float, multiplier: float = 1.0) -> float:
        return max(state.memory.percentile(q) * margin * multiplier, min_memory)

    upper = _confidence_multiplier(1.0, 1.0, confidence)
    lower = _confidence_multiplier(0.001, -2.0, confidence)
    return VpaEstimate(
        target_cpu_millicores=cpu(TARGET_PERCENTILE),
        target_memory_bytes=memory(TARGET_PERCENTILE),
        lower_cpu_millicores=cpu(LOWER_PERCENTILE, lower),
        lower_memory_bytes=memory(LOWER_PERCENTILE, lower),
        upper_cpu_millicores=cpu(UPPER_PERCENTILE, upper),
        upper_memory_bytes=memory(UPPER_PERCENTILE, upper),
    )


def _confidence_multiplier(multiplier: float, exponent: float, confidence: float) -> float:
    """(1 + multiplier / confidence) ** exponent: wide bounds for a young history."""
    if confidence <= 0:
        return math.inf if exponent > 0 else 0.0
    return float((1 + multiplier / confidence) ** exponent)
