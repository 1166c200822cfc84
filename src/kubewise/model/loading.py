"""Build a `Snapshot` from Kubernetes objects: kubectl dumps on disk or dicts from the API.

Public entry points: `load_snapshot_from_objects` (pure; the agent calls it with what
`agent.cluster_reader.read_cluster` returns) and `load_snapshot_from_path` (the CLI; reads a
`kubectl get nodes,pods,poddisruptionbudgets,namespaces -A -o json|yaml` dump, `.gz` too, or a
directory of such files). Kinds Node, Pod, PodDisruptionBudget and Namespace are used, `*List`
objects are flattened, other kinds are ignored. Every failure is a `SnapshotLoadError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kubewise.model.dump_files import dump_files, read_documents
from kubewise.model.errors import SnapshotLoadError
from kubewise.model.kube_fields import QuantityCache, Reader, gc_paused, identify, join_path
from kubewise.model.kube_selectors import parse_label_selector
from kubewise.model.kubectl_nodes import parse_node
from kubewise.model.kubectl_pods import parse_pod
from kubewise.model.objects import Node, Pod, PodDisruptionBudget, Snapshot

__all__ = [
    "SnapshotLoadError",
    "load_snapshot_from_objects",
    "load_snapshot_from_path",
    "parse_namespace",
    "parse_pdb",
]

KINDS = ("Node", "Pod", "PodDisruptionBudget", "Namespace")
_NAMESPACED = {"Pod": True, "PodDisruptionBudget": True, "Node": False, "Namespace": False}


def _int_or_percent(r: Reader, spec: Mapping[str, Any], key: str) -> int | str | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        if value.endswith("%") and value[:-1].isdigit():
            return value
    raise r.error(
        join_path("spec", key), f"expected a non-negative integer or a percentage like '50%', got {value!r}"
    )


def parse_pdb(obj: Mapping[str, Any], ordinal: str = "") -> PodDisruptionBudget:
    """A policy/v1 PodDisruptionBudget; a null selector selects no pods (`MATCH_NOTHING`)."""
    _, namespace, name = identify("PodDisruptionBudget", obj, ordinal, namespaced=True)
    r = Reader(f"PodDisruptionBudget {namespace}/{name}")
    spec = r.mapping(obj, "spec", "")
    min_available = _int_or_percent(r, spec, "minAvailable")
    max_unavailable = _int_or_percent(r, spec, "maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        raise r.error("spec", "minAvailable and maxUnavailable are both set (at most one is allowed)")
    return PodDisruptionBudget(
        namespace=namespace,
        name=name,
        selector=parse_label_selector(r, spec, "selector", "spec"),
        min_available=min_available,
        max_unavailable=max_unavailable,
        disruptions_allowed=r.integer(r.mapping(obj, "status", ""), "disruptionsAllowed", "status"),
    )


def parse_namespace(obj: Mapping[str, Any], ordinal: str = "") -> tuple[str, dict[str, str]]:
    """A Namespace -> `(name, labels)`."""
    meta, _, name = identify("Namespace", obj, ordinal, namespaced=False)
    return name, Reader(f"Namespace {name}").string_map(meta, "labels", "metadata")


def _flatten(obj: object, ordinal: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Objects of `obj`, `*List`s flattened; items of typed lists (`PodList`) get their `kind`."""
    if not isinstance(obj, Mapping):
        raise SnapshotLoadError(
            f"expected a Kubernetes object (a mapping), got {type(obj).__name__}", obj=f"item {ordinal}"
        )
    kind = obj.get("kind")
    items = obj.get("items")
    untyped_list = kind is None and isinstance(items, list)
    if untyped_list or (isinstance(kind, str) and kind.endswith("List")):
        items = [] if items is None else items
        if not isinstance(items, list):
            raise SnapshotLoadError("expected a list", obj=f"{kind} {ordinal}", field="items")
        item_kind = kind[: -len("List")] if isinstance(kind, str) and kind != "List" else ""
        for i, item in enumerate(items):
            if item_kind and isinstance(item, Mapping) and "kind" not in item:
                item = {**item, "kind": item_kind}
            yield from _flatten(item, f"{ordinal}.items[{i}]")
        return
    if not isinstance(kind, str) or not kind:
        raise SnapshotLoadError("missing kind", obj=f"item {ordinal}", field="kind")
    yield obj, ordinal


class _DuplicateObjectError(SnapshotLoadError):
    """Names the files itself, so it is not prefixed with the current file."""


class _SnapshotBuilder:
    """Accumulates parsed objects across documents and files; detects duplicates."""

    def __init__(self) -> None:
        self.quantities: QuantityCache = {}
        self.nodes: list[Node] = []
        self.pods: list[Pod] = []
        self.pdbs: list[PodDisruptionBudget] = []
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.seen: dict[tuple[str, str, str], str] = {}
        self.ignored: set[str] = set()

    def add_document(self, doc: object, source: str, ordinal: str) -> None:
        try:
            for obj, obj_ordinal in _flatten(doc, ordinal):
                self._add(obj, source, obj_ordinal)
        except _DuplicateObjectError:
            raise
        except SnapshotLoadError as exc:
            raise (exc.with_source(source) if source else exc) from None
        except RecursionError:
            where = f"item {ordinal}"
            raise SnapshotLoadError("objects nested too deeply", obj=where, source=source) from None

    def _add(self, obj: Mapping[str, Any], source: str, ordinal: str) -> None:
        kind = obj["kind"]
        if kind not in _NAMESPACED:
            self.ignored.add(kind)
            return
        if kind == "Pod":
            pod = parse_pod(obj, self.quantities, ordinal)
            self._check_unique(kind, pod.namespace, pod.name, source)
            self.pods.append(pod)
        elif kind == "Node":
            node = parse_node(obj, self.quantities, ordinal)
            self._check_unique(kind, "", node.name, source)
            self.nodes.append(node)
        elif kind == "PodDisruptionBudget":
            pdb = parse_pdb(obj, ordinal)
            self._check_unique(kind, pdb.namespace, pdb.name, source)
            self.pdbs.append(pdb)
        else:
            name, labels = parse_namespace(obj, ordinal)
            self._check_unique(kind, "", name, source)
            self.namespace_labels[name] = labels

    def _check_unique(self, kind: str, namespace: str, name: str, source: str) -> None:
        key = (kind, namespace, name)
        if key not in self.seen:
            self.seen[key] = source
            return
        first = self.seen[key]
        if first != source:
            where = f"in both {first} and {source}"
        else:
            where = f"twice in {source}" if source else "twice in the input"
        what = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        raise _DuplicateObjectError(f"duplicate object: defined {where}", obj=what)

    def snapshot(self, where: str) -> Snapshot:
        if not (self.nodes or self.pods or self.pdbs or self.namespace_labels):
            found = f" (only {', '.join(sorted(self.ignored))})" if self.ignored else ""
            raise SnapshotLoadError(f"no Kubernetes objects found{found}", source=where)
        return Snapshot(
            nodes=tuple(self.nodes),
            pods=tuple(self.pods),
            pdbs=tuple(self.pdbs),
            namespace_labels=self.namespace_labels,
        )


def load_snapshot_from_objects(items: Iterable[Mapping[str, Any]]) -> Snapshot:
    """A `Snapshot` from Kubernetes objects as dicts (API or kubectl JSON shape); pure.

    Raises `SnapshotLoadError` naming the object and field on bad input, on duplicates, and when
    no Node/Pod/PodDisruptionBudget/Namespace object is present.
    """
    builder = _SnapshotBuilder()
    with gc_paused():
        for i, item in enumerate(items):
            builder.add_document(item, "", f"#{i + 1}")
    return builder.snapshot("")


def load_snapshot_from_path(path: Path | str) -> Snapshot:
    """A `Snapshot` from a dump file (JSON/YAML, multi-document, `.gz`) or a directory of them.

    Directory files (`*.json`, `*.yaml`, `*.yml`, each optionally `.gz`) are read in sorted name
    order, not recursively; an object defined in two files is an error naming both files.
    """
    path = Path(path)
    if path.is_dir():
        files = dump_files(path)
        if not files:
            raise SnapshotLoadError(
                "no Kubernetes objects found: no *.json, *.yaml or *.yml files in the directory",
                source=str(path),
            )
    else:
        files = [path]
    builder = _SnapshotBuilder()
    with gc_paused():
        for file in files:
            _add_file(builder, file)  # the raw documents are freed before the collector resumes
    return builder.snapshot(str(path))


def _add_file(builder: _SnapshotBuilder, file: Path) -> None:
    for i, doc in enumerate(read_documents(file)):
        builder.add_document(doc, str(file), f"#{i + 1}")
