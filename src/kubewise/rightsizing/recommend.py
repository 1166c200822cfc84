"""Request (and limit) recommendations from usage histories (pure): kubewise's rightsizing estimator.

Called by the platform's rightsizing service (`kubewise.server`) for the workloads API and for the
workloads in apply mode each autoscaler cycle, and by `benchmarks/rightsizing.py`. Usage, the current
requests, the settings and `now` go in; a `WorkloadRecommendation` comes out -- or none with the
reason (too little data, a container never measured).

CPU is compressible (too little means throttling), so its request is a percentile of the samples
plus a margin. Memory is not (too little means an OOM kill), so its request is the largest of: a
percentile of the interval peaks plus the margin, the highest peak the histogram still remembers
(`memory_floor_observed_max`) and, after an OOM kill, `oom_bump` times the memory the container had
when it died (at least `oom_min_bump_bytes` more). The max bound wins over all of them: it is the
user's cap. docs/rightsizing.md says how this differs from the VPA recommender.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kubewise.rightsizing.usage import ContainerUsage, WorkloadUsage

__all__ = [
    "ContainerRecommendation",
    "LimitPolicy",
    "Requests",
    "RightsizingSettings",
    "WorkloadRecommendation",
    "memory_target",
    "recommend",
]

LimitPolicy = Literal["keep-ratio", "remove", "equal-to-request"]
_LIMIT_POLICIES = ("keep-ratio", "remove", "equal-to-request")
MIB = 1024.0 * 1024.0


@dataclass(frozen=True, slots=True)
class RightsizingSettings:
    """How recommendations are made; the defaults suit most services."""

    cpu_percentile: float = 0.9
    memory_percentile: float = 0.95
    safety_margin: float = 0.15  # fraction added to the percentiles
    min_cpu_millicores: float = 25.0
    max_cpu_millicores: float = 64_000.0
    min_memory_bytes: float = 64 * MIB
    max_memory_bytes: float = 256 * 1024 * MIB
    min_data_hours: float = 24.0
    oom_bump: float = 1.2  # after an OOM kill: at least this times the memory at the kill ...
    oom_min_bump_bytes: float = 100 * MIB  # ... and at least this much more
    oom_streak_seconds: float = 3600.0  # kills closer together than this compound the bump (a crash loop)
    memory_floor_observed_max: bool = True  # never below the highest remembered memory peak
    memory_limit_policy: LimitPolicy = "keep-ratio"
    cpu_limit_policy: LimitPolicy = "keep-ratio"

    def __post_init__(self) -> None:
        for name in ("cpu_percentile", "memory_percentile"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within (0, 1], got {getattr(self, name)}")
        if self.safety_margin < 0 or self.min_data_hours < 0 or self.oom_min_bump_bytes < 0:
            raise ValueError("safety_margin, min_data_hours and oom_min_bump_bytes must be >= 0")
        if self.oom_bump < 1:
            raise ValueError(f"oom_bump must be >= 1, got {self.oom_bump}")
        if not 0 < self.min_cpu_millicores <= self.max_cpu_millicores:
            raise ValueError("need 0 < min_cpu_millicores <= max_cpu_millicores")
        if not 0 < self.min_memory_bytes <= self.max_memory_bytes:
            raise ValueError("need 0 < min_memory_bytes <= max_memory_bytes")
        for name in ("memory_limit_policy", "cpu_limit_policy"):
            if getattr(self, name) not in _LIMIT_POLICIES:
                raise ValueError(f"{name} must be one of {', '.join(_LIMIT_POLICIES)}")


@dataclass(frozen=True, slots=True)
class Requests:
    """A container's current requests and limits (None: not set)."""

    cpu_millicores: float | None
    memory_bytes: float | None
    cpu_limit: float | None = None  # millicores
    memory_limit: float | None = None  # bytes


@dataclass(frozen=True, slots=True)
class ContainerRecommendation:
    container: str
    cpu_millicores: float
    memory_bytes: float
    cpu_limit_millicores: float | None
    memory_limit_bytes: float | None


@dataclass(frozen=True, slots=True)
class WorkloadRecommendation:
    """Recommendations for every container, or none and `reason` says why."""

    containers: tuple[ContainerRecommendation, ...]
    reason: str | None
    data_hours: float


def recommend(
    usage: WorkloadUsage, current: Mapping[str, Requests], settings: RightsizingSettings, now: float
) -> WorkloadRecommendation:
    """Recommend requests for the containers of `current` (of `usage` when `current` is empty)."""
    names = sorted(current) if current else sorted(usage)
    if not names:
        return WorkloadRecommendation((), "no containers and no usage data yet", 0.0)
    missing = [name for name in names if name not in usage or usage[name].samples == 0]
    if missing:
        return WorkloadRecommendation((), f"no usage data for container(s) {', '.join(missing)}", 0.0)
    data_hours = min(usage[name].data_seconds() for name in names) / 3600.0
    if data_hours < settings.min_data_hours:
        reason = f"{data_hours:.1f} h of usage data, {settings.min_data_hours:g} h needed"
        return WorkloadRecommendation((), reason, data_hours)
    none = Requests(None, None)
    containers = tuple(
        _container(name, usage[name], current.get(name, none), settings, now) for name in names
    )
    return WorkloadRecommendation(containers, None, data_hours)


def _container(
    name: str, usage: ContainerUsage, current: Requests, settings: RightsizingSettings, now: float
) -> ContainerRecommendation:
    cpu = _clamp(
        usage.cpu.percentile(settings.cpu_percentile) * 1000.0 * (1 + settings.safety_margin),
        settings.min_cpu_millicores,
        settings.max_cpu_millicores,
    )
    memory = _clamp(memory_target(usage, settings, now), settings.min_memory_bytes, settings.max_memory_bytes)
    cpu, memory = math.ceil(cpu), math.ceil(memory / MIB) * MIB  # whole millicores and MiB in manifests
    return ContainerRecommendation(
        container=name,
        cpu_millicores=cpu,
        memory_bytes=memory,
        cpu_limit_millicores=_limit(
            settings.cpu_limit_policy, cpu, current.cpu_millicores, current.cpu_limit
        ),
        memory_limit_bytes=_limit(
            settings.memory_limit_policy, memory, current.memory_bytes, current.memory_limit
        ),
    )


def memory_target(usage: ContainerUsage, settings: RightsizingSettings, now: float) -> float:
    """The memory request before bounds: percentile + margin, lifted by the remembered peak and OOMs."""
    target = usage.memory.percentile(settings.memory_percentile) * (1 + settings.safety_margin)
    if settings.memory_floor_observed_max:
        target = max(target, usage.memory.max_value_seen())
    ooms = usage.recent_ooms(now)
    if ooms:
        _, at_kill = ooms[-1]
        # a kill soon after another means the last bump was too small: each one in a row bumps again
        streak = _streak([at for at, _ in ooms], settings.oom_streak_seconds)
        bumped = max(at_kill * settings.oom_bump**streak, at_kill + settings.oom_min_bump_bytes * streak)
        target = max(target, bumped)
    return target


def _streak(times: list[float], gap: float) -> int:
    """How many kills, ending with the last one, followed each other within `gap` seconds."""
    count = 1
    for later, earlier in zip(times[::-1], times[-2::-1], strict=False):
        if later - earlier > gap:
            break
        count += 1
    return count


def _limit(
    policy: LimitPolicy, request: float, old_request: float | None, old_limit: float | None
) -> float | None:
    if policy == "remove":
        return None
    if policy == "equal-to-request":
        return request
    if old_limit is None:
        return None  # keep-ratio of no limit: still no limit
    if not old_request:
        return max(old_limit, request)  # no request to take a ratio of: keep the limit, never below
    return math.ceil(request * max(1.0, old_limit / old_request))


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
