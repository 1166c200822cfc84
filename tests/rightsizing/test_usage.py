"""ContainerUsage: one memory peak per interval, OOM kills kept (bounded), JSON round trips."""

from __future__ import annotations

import json

import pytest

from kubewise.rightsizing import ContainerUsage, workload_usage_from_json, workload_usage_to_json

HOUR = 3600.0
MIB = 1024.0 * 1024.0


def test_memory_histogram_holds_one_peak_per_interval() -> None:
    usage = ContainerUsage.empty()
    # three hours; in each, 59 low minutes and one high minute
    for minute in range(180):
        high = minute % 60 == 30
        usage.add_sample(0.1, (900 if high else 200) * MIB, at=minute * 60.0)
    assert usage.samples == 180
    # the three hourly peaks are all the histogram holds: even its 1st percentile is the peak
    assert usage.memory.percentile(0.01) >= 900 * MIB
    assert usage.memory.total_weight == pytest.approx(1.0 + 2 ** (-1 / 24) + 2 ** (-2 / 24), rel=1e-9)
    assert usage.cpu.total_weight > 100  # every CPU sample counts
    assert usage.data_seconds() == 179 * 60.0


def test_samples_older_than_the_running_interval_are_refused() -> None:
    usage = ContainerUsage.empty()
    usage.add_sample(0.1, 100 * MIB, at=2 * HOUR + 60)
    usage.add_sample(0.1, 150 * MIB, at=2 * HOUR + 30)  # same interval, a bit late: fine
    assert usage.memory.percentile(1.0) >= 150 * MIB
    with pytest.raises(ValueError, match="older"):
        usage.add_sample(0.1, 100 * MIB, at=HOUR)


def test_bad_samples_are_refused() -> None:
    usage = ContainerUsage.empty()
    with pytest.raises(ValueError, match="cpu_cores"):
        usage.add_sample(-1.0, 1.0, at=0.0)
    with pytest.raises(ValueError, match="memory_bytes"):
        usage.add_sample(0.1, float("inf"), at=0.0)
    assert usage.samples == 0


def test_oom_events_are_deduplicated_bounded_and_age_out() -> None:
    usage = ContainerUsage.empty()
    usage.add_oom(100.0, 512 * MIB)
    usage.add_oom(100.0, 512 * MIB)  # the same kill seen in two snapshots
    assert usage.oom_events == [(100.0, 512 * MIB)]
    for i in range(50):
        usage.add_oom(1000.0 + i, (600 + i) * MIB)
    assert len(usage.oom_events) == 20
    assert usage.oom_events[-1] == (1049.0, 649 * MIB)
    assert usage.recent_ooms(1049.0 + 8 * 24 * HOUR) == []
    assert len(usage.recent_ooms(1049.0 + HOUR)) == 20


def test_workload_usage_json_round_trip() -> None:
    web, sidecar = ContainerUsage.empty(), ContainerUsage.empty(half_life=12 * HOUR)
    for minute in range(300):
        web.add_sample(0.2 + (minute % 7) / 100, (300 + minute % 13) * MIB, at=minute * 60.0)
        sidecar.add_sample(0.01, 20 * MIB, at=minute * 60.0)
    web.add_oom(120.0, 400 * MIB)
    doc = json.loads(json.dumps(workload_usage_to_json({"web": web, "sidecar": sidecar})))
    again = workload_usage_from_json(doc)
    assert workload_usage_to_json(again) == doc
    assert again["web"].oom_events == [(120.0, 400 * MIB)]
    assert again["sidecar"].cpu.half_life == 12 * HOUR
    # the running interval's peak survives the trip: a lower sample in it changes nothing, a higher one swaps
    again["web"].add_sample(0.2, 1 * MIB, at=299 * 60.0 + 30)
    assert again["web"].memory.to_json()["buckets"] == web.memory.to_json()["buckets"]
    again["web"].add_sample(0.2, 2000 * MIB, at=299 * 60.0 + 40)
    assert again["web"].memory.total_weight == pytest.approx(web.memory.total_weight)
    assert again["web"].memory.max_value_seen() >= 2000 * MIB


def test_bad_documents_are_refused() -> None:
    with pytest.raises(ValueError):
        workload_usage_from_json({"web": {"cpu": {}}})
    with pytest.raises(ValueError):
        workload_usage_from_json([])  # type: ignore[arg-type]
