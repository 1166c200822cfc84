"""Usage history of a workload's containers (pure): what the recommender reads.

The platform (`kubewise.server`) keeps one `WorkloadUsage` per opted-in workload, feeds it the agent's
usage samples (`add_sample`) and the OOM kills it sees in pod statuses (`add_oom`), and stores it as
`to_json`; `kubewise.rightsizing.recommend` turns it into requests. CPU is compressible, so every
sample counts (weight 1: weighting by the current request, as VPA does, would make the estimate
depend on what was asked for before). Memory is not: a container dies on its highest value, so the
memory histogram holds one peak per interval (an hour by default), replaced while the interval runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kubewise.rightsizing.histogram import DecayingHistogram

__all__ = [
    "CPU_FIRST_BUCKET_CORES",
    "CPU_MAX_CORES",
    "MEMORY_FIRST_BUCKET_BYTES",
    "MEMORY_MAX_BYTES",
    "ContainerUsage",
    "WorkloadUsage",
    "workload_usage_from_json",
    "workload_usage_to_json",
]

CPU_FIRST_BUCKET_CORES = 0.01  # VPA's: 10 millicores
CPU_MAX_CORES = 1000.0
MEMORY_FIRST_BUCKET_BYTES = 1e7  # VPA's: 10 MB
MEMORY_MAX_BYTES = 1e12  # 1 TB; with ratio 1.05 both histograms stay under ~200 buckets
HALF_LIFE_SECONDS = 24 * 3600.0
PEAK_INTERVAL_SECONDS = 3600.0
OOM_MEMORY_SECONDS = 7 * 24 * 3600.0  # an OOM kill older than a week no longer lifts the memory floor
_MAX_OOM_EVENTS = 20  # bounded storage: only the most recent kills matter


def _cpu_histogram(half_life: float) -> DecayingHistogram:
    return DecayingHistogram(CPU_FIRST_BUCKET_CORES, CPU_MAX_CORES, half_life=half_life)


def _memory_histogram(half_life: float) -> DecayingHistogram:
    return DecayingHistogram(MEMORY_FIRST_BUCKET_BYTES, MEMORY_MAX_BYTES, half_life=half_life)


@dataclass(slots=True)
class ContainerUsage:
    """One container's usage: a CPU histogram (cores) and a histogram of interval memory peaks (bytes)."""

    peak_interval: float = PEAK_INTERVAL_SECONDS
    cpu: DecayingHistogram = field(default_factory=lambda: _cpu_histogram(HALF_LIFE_SECONDS))
    memory: DecayingHistogram = field(default_factory=lambda: _memory_histogram(HALF_LIFE_SECONDS))
    first_sample_at: float | None = None
    last_sample_at: float | None = None
    samples: int = 0
    oom_events: list[tuple[float, float]] = field(default_factory=list)  # (at, memory bytes at the kill)
    peak_start: float | None = None  # the running interval's start and its peak so far
    peak_bytes: float = 0.0

    def __post_init__(self) -> None:
        if not self.peak_interval > 0:
            raise ValueError(f"peak_interval must be > 0 seconds, got {self.peak_interval}")

    @classmethod
    def empty(
        cls, half_life: float = HALF_LIFE_SECONDS, peak_interval: float = PEAK_INTERVAL_SECONDS
    ) -> ContainerUsage:
        """No usage yet, with histograms decaying at `half_life` seconds."""
        return cls(peak_interval, _cpu_histogram(half_life), _memory_histogram(half_life))

    def add_sample(self, cpu_cores: float, memory_bytes: float, at: float) -> None:
        """Record one measurement: CPU in cores, memory working set in bytes, at `at` (epoch seconds).

        Samples may come in any order within the running peak interval (pods of one workload are
        reported one after another); one older than that interval is refused with a ValueError,
        because its interval's peak is already final.
        """
        _check_amount("cpu_cores", cpu_cores)
        _check_amount("memory_bytes", memory_bytes)
        if not math.isfinite(at):
            raise ValueError(f"sample time must be finite, got {at}")
        if self.peak_start is not None and at < self.peak_start:
            raise ValueError(f"sample at {at} is older than the running interval ({self.peak_start})")
        self.cpu.add(cpu_cores, 1.0, at)
        self._add_memory_peak(memory_bytes, at)
        self.first_sample_at = at if self.first_sample_at is None else min(self.first_sample_at, at)
        self.last_sample_at = at if self.last_sample_at is None else max(self.last_sample_at, at)
        self.samples += 1

    def add_oom(self, at: float, memory_bytes: float) -> None:
        """Record an OOM kill at `at` with the memory the container had then (its limit, usually)."""
        _check_amount("memory_bytes", memory_bytes)
        if not math.isfinite(at):
            raise ValueError(f"OOM time must be finite, got {at}")
        if (at, memory_bytes) in self.oom_events:
            return  # the same kill seen in two snapshots
        self.oom_events.append((at, memory_bytes))
        self.oom_events.sort()
        del self.oom_events[:-_MAX_OOM_EVENTS]

    def recent_ooms(self, now: float) -> list[tuple[float, float]]:
        """The OOM kills the recommender still honours at `now` (the last week's)."""
        return [(at, memory) for at, memory in self.oom_events if now - at <= OOM_MEMORY_SECONDS]

    def data_seconds(self) -> float:
        """How long the samples span."""
        if self.first_sample_at is None or self.last_sample_at is None:
            return 0.0
        return self.last_sample_at - self.first_sample_at

    def _add_memory_peak(self, memory_bytes: float, at: float) -> None:
        start = math.floor(at / self.peak_interval) * self.peak_interval
        if self.peak_start == start:
            if memory_bytes <= self.peak_bytes:
                return
            # the interval's peak grew: the histogram holds one peak per interval, so swap it
            self.memory.subtract(self.peak_bytes, 1.0, start)
        self.peak_start, self.peak_bytes = start, memory_bytes
        self.memory.add(memory_bytes, 1.0, start)

    def to_json(self) -> dict[str, Any]:
        return {
            "peakInterval": self.peak_interval,
            "cpu": self.cpu.to_json(),
            "memory": self.memory.to_json(),
            "firstSampleAt": self.first_sample_at,
            "lastSampleAt": self.last_sample_at,
            "samples": self.samples,
            "oomEvents": [[at, memory] for at, memory in self.oom_events],
            "peakStart": self.peak_start,
            "peakBytes": self.peak_bytes,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ContainerUsage:
        """The usage `to_json` wrote; a ValueError says what is wrong with a bad document."""
        try:
            return cls(
                peak_interval=float(doc["peakInterval"]),
                cpu=DecayingHistogram.from_json(doc["cpu"]),
                memory=DecayingHistogram.from_json(doc["memory"]),
                first_sample_at=_optional_float(doc.get("firstSampleAt")),
                last_sample_at=_optional_float(doc.get("lastSampleAt")),
                samples=int(doc["samples"]),
                oom_events=[(float(at), float(memory)) for at, memory in doc.get("oomEvents", [])],
                peak_start=_optional_float(doc.get("peakStart")),
                peak_bytes=float(doc.get("peakBytes", 0.0)),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a container usage document: {error!r}") from error


WorkloadUsage = dict[str, ContainerUsage]
"""A workload's usage: container name -> its usage (all pods of the workload feed the same entry)."""


def workload_usage_to_json(usage: WorkloadUsage) -> dict[str, Any]:
    return {name: container.to_json() for name, container in sorted(usage.items())}


def workload_usage_from_json(doc: dict[str, Any]) -> WorkloadUsage:
    if not isinstance(doc, dict):
        raise ValueError(f"workload usage must be an object of containers, got {type(doc).__name__}")
    return {str(name): ContainerUsage.from_json(container) for name, container in doc.items()}


def _check_amount(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
