"""The one error type of snapshot loading: `SnapshotLoadError`.

Raised by `model.loading` and its parsers (`kube_fields`, `kube_selectors`, `kubectl_pods`,
`kubectl_nodes`) for every bad input; caught by the CLI and the agent to print one clear line.
"""

from __future__ import annotations

__all__ = ["SnapshotLoadError"]


class SnapshotLoadError(ValueError):
    """A cluster dump could not be turned into a `Snapshot`.

    The message names, when known, the file (`source`), the object (`obj`, e.g. `Pod default/web-1`)
    and the field path (`field`, e.g. `spec.containers[1].resources.requests.cpu`), then the problem:
    `pods.json: Pod default/web-1: spec.containers[1].resources.requests.cpu: invalid quantity '12x'`.
    """

    def __init__(self, problem: str, *, obj: str = "", field: str = "", source: str = "") -> None:
        self.problem = problem
        self.obj = obj
        self.field = field
        self.source = source
        parts = [p for p in (source, obj, field) if p]
        super().__init__(": ".join([*parts, problem]))

    def with_source(self, source: str) -> SnapshotLoadError:
        """The same error, attributed to file `source` (kept if the error already names a file)."""
        if self.source:
            return self
        return SnapshotLoadError(self.problem, obj=self.obj, field=self.field, source=source)
