"""Workload rightsizing (pure): container usage histories in, request and limit recommendations out.

`usage` keeps what the platform learns about a workload's containers (decaying `histogram`s of CPU
and of memory peaks, OOM kills); `recommend` turns that into requests; `vpa` is the Kubernetes VPA
recommender's published estimator, kept as the baseline `benchmarks/rightsizing.py` compares with.
The platform (`kubewise.server`) stores the usage and serves the recommendations; the controller
applies them. No I/O and no clock here: callers pass `now`.
"""

from kubewise.rightsizing.histogram import DecayingHistogram
from kubewise.rightsizing.recommend import (
    ContainerRecommendation,
    LimitPolicy,
    Requests,
    RightsizingSettings,
    WorkloadRecommendation,
    memory_target,
    recommend,
)
from kubewise.rightsizing.usage import (
    ContainerUsage,
    WorkloadUsage,
    workload_usage_from_json,
    workload_usage_to_json,
)

__all__ = [
    "ContainerRecommendation",
    "ContainerUsage",
    "DecayingHistogram",
    "LimitPolicy",
    "Requests",
    "RightsizingSettings",
    "WorkloadRecommendation",
    "WorkloadUsage",
    "memory_target",
    "recommend",
    "workload_usage_from_json",
    "workload_usage_to_json",
]
