"""What rightsizing needs that a user can get wrong (pure): workloads opted in while it is off for
the cluster, an annotation with a value other than "true", too little usage data yet. Called by
`autoscaler.diagnosis.diagnose`; the platform fills `Rightsizing` from its stored objects, the
cluster's policy and its oldest usage sample."""

from __future__ import annotations

from dataclasses import dataclass

from kubewise.autoscaler.problems import SHOWN, Problem, named

__all__ = ["RIGHTSIZING_ANNOTATION", "RIGHTSIZING_MIN_DATA_SECONDS", "Rightsizing", "rightsizing_problems"]

RIGHTSIZING_ANNOTATION = "rightsizing.kubewise.dev/enabled"
RIGHTSIZING_MIN_DATA_SECONDS = 24 * 3600  # no recommendation before a day of data (daily cycles)


@dataclass(frozen=True, slots=True)
class Rightsizing:
    """What rightsizing will need, as the platform sees it: who opted in, and since when data exists."""

    opted_in: tuple[str, ...] = ()  # workloads / namespaces annotated RIGHTSIZING_ANNOTATION="true"
    misannotated: tuple[tuple[str, str], ...] = ()  # (object, value): the annotation, another value
    data_since: float | None = None  # seconds (the caller's clock) of the oldest usage sample kept
    enabled: bool = True  # the cluster's `rightsizing.enabled`
    min_data_hours: float = RIGHTSIZING_MIN_DATA_SECONDS / 3600  # the cluster's `rightsizing.minDataHours`


def rightsizing_problems(state: Rightsizing, now: float) -> list[Problem]:
    out = []
    if state.misannotated and not state.opted_in:
        out.append(
            Problem(
                "policy.rightsizing-not-opted-in",
                "warning",
                "no workload or namespace is opted in to rightsizing",
                f'the annotation {RIGHTSIZING_ANNOTATION} is set, but not to the string "true", so '
                "rightsizing will leave these workloads alone",
                f'annotate the workload or namespace with {RIGHTSIZING_ANNOTATION}: "true" (quoted)',
                tuple(f"{obj}: {value!r}" for obj, value in state.misannotated[:SHOWN]),
            )
        )
    if state.opted_in and not state.enabled:
        out.append(
            Problem(
                "policy.rightsizing-disabled",
                "warning",
                "workloads are opted in to rightsizing, but it is off for the cluster",
                "the cluster's policy has `rightsizing.enabled: false`, so no recommendation is made "
                "for any workload, annotated or not",
                "set `rightsizing.enabled: true` in the cluster's policies (and `applyEnabled: true` for "
                "workloads in mode apply)",
                named(list(state.opted_in)),
            )
        )
    elif state.opted_in:
        need = state.min_data_hours * 3600
        have = 0.0 if state.data_since is None else max(0.0, now - state.data_since)
        if have < need:
            out.append(
                Problem(
                    "policy.rightsizing-insufficient-data",
                    "warning",
                    f"rightsizing needs {need / 3600:g} h of usage data; "
                    f"the platform has {have / 3600:.1f} h for this cluster",
                    "recommendations are made only from enough usage data to have seen the daily peaks"
                    + ("" if state.data_since is not None else "; no usage sample has arrived yet"),
                    f"wait {(need - have) / 3600:.1f} h more with the agent connected"
                    + (
                        ""
                        if state.data_since is not None
                        else " (the agent reads the metrics API: metrics-server must be installed)"
                    ),
                    named(list(state.opted_in)),
                )
            )
    return out
