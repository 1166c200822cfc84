"""Typed, path-aware reads of raw Kubernetes objects (JSON/YAML dicts) for the model parsers.

Used by `kube_selectors`, `kubectl_pods`, `kubectl_nodes` and `loading`. Every accessor takes the
parent mapping, the key and the parent's field path, and raises `SnapshotLoadError` naming the
object and the full field path (`spec.containers[1].resources.requests.cpu`) on bad input.
Paths are only formatted on error, so the happy path stays cheap for 100k-pod dumps.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from kubewise.model.errors import SnapshotLoadError
from kubewise.model.resources import CPU, parse_resource_quantity

__all__ = ["QuantityCache", "Reader", "gc_paused", "identify", "join_path"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

# (is_cpu, raw value) -> parsed integer amount; one dict per load call (no module-level state).
QuantityCache = dict[tuple[bool, object], int]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic dicts and objects.

    Parsing 100k pods otherwise triggers thousands of full-heap collections (5x slower JSON decoding).
    The previous state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def join_path(path: str, key: str | int) -> str:
    """`spec` + `containers` -> `spec.containers`; `spec.containers` + 1 -> `spec.containers[1]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


class Reader:
    """Reads fields of one object (`what`, e.g. `Pod default/web-1`) with clear errors."""

    __slots__ = ("quantities", "what")

    def __init__(self, what: str, quantities: QuantityCache | None = None) -> None:
        self.what = what
        self.quantities: QuantityCache = {} if quantities is None else quantities

    def error(self, path: str, problem: str) -> SnapshotLoadError:
        return SnapshotLoadError(problem, obj=self.what, field=path)

    def mapping(self, parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        """An optional object field; `{}` when absent or null."""
        value = parent.get(key)
        if value.__class__ is dict or (value is not None and isinstance(value, Mapping)):
            return value
        if value is None:
            return _EMPTY
        raise self.error(join_path(path, key), f"expected an object, got {_type_name(value)}")

    def entry(self, value: object, path: str) -> Mapping[str, Any]:
        """A list element that must be an object (e.g. one container)."""
        if value.__class__ is dict or isinstance(value, Mapping):
            return value
        raise self.error(path, f"expected an object, got {_type_name(value)}")

    def items(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        """An optional list field; `[]` when absent or null."""
        value = parent.get(key)
        if value.__class__ is list:
            return value
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.error(join_path(path, key), f"expected a list, got {_type_name(value)}")

    def string(self, parent: Mapping[str, Any], key: str, path: str, default: str = "") -> str:
        value = parent.get(key)
        if value.__class__ is str:
            return value
        if value is None:
            return default
        if isinstance(value, str):
            return value
        raise self.error(join_path(path, key), f"expected a string, got {_type_name(value)} {value!r}")

    def required_string(self, parent: Mapping[str, Any], key: str, path: str) -> str:
        value = self.string(parent, key, path)
        if not value:
            raise self.error(join_path(path, key), "missing required field")
        return value

    def integer(self, parent: Mapping[str, Any], key: str, path: str) -> int | None:
        value = parent.get(key)
        if value.__class__ is int or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(join_path(path, key), f"expected an integer, got {_type_name(value)} {value!r}")
        return value

    def strings(self, parent: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        values = self.items(parent, key, path)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(join_path(join_path(path, key), i), f"expected a string, got {value!r}")
        return tuple(values)

    def string_map(self, parent: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
        """A `map[string]string` field such as labels or nodeSelector (a fresh dict)."""
        raw = self.mapping(parent, key, path)
        for k, v in raw.items():
            if not isinstance(k, str):
                raise self.error(join_path(path, key), f"expected string keys, got {k!r}")
            if v.__class__ is not str and not isinstance(v, str):
                raise self.error(join_path(join_path(path, key), k), f"expected a string, got {v!r}")
        return dict(raw)

    def quantity_map(self, parent: Mapping[str, Any], key: str, path: str) -> dict[str, int]:
        """A `ResourceList` (`requests`, `allocatable`...) parsed to integer units, cached by text."""
        raw = self.mapping(parent, key, path)
        out: dict[str, int] = {}
        cache = self.quantities
        for name, value in raw.items():
            if name.__class__ is not str and not isinstance(name, str):
                raise self.error(join_path(path, key), f"expected resource names, got {name!r}")
            if value.__class__ is bool:  # True == 1 would hit the cache of quantity 1
                raise self.error(join_path(join_path(path, key), name), f"invalid quantity {value!r}")
            ck = (name == CPU, value)
            try:
                out[name] = cache[ck]
            except KeyError:
                out[name] = cache[ck] = self._parse_quantity(name, value, join_path(path, key))
            except TypeError:  # unhashable value (list/dict)
                raise self.error(
                    join_path(join_path(path, key), name), f"invalid quantity {value!r}"
                ) from None
        return out

    def _parse_quantity(self, name: str, value: object, path: str) -> int:
        if isinstance(value, float):
            value = repr(value)  # 0.1 -> "0.1", not the binary float 0.1000000000000000055...
        try:
            return parse_resource_quantity(name, value)
        except (ValueError, TypeError, ArithmeticError) as exc:
            problem = str(exc) if isinstance(exc, ValueError) else f"invalid quantity {value!r}"
            raise self.error(join_path(path, name), problem) from None


def identify(
    kind: str, obj: Mapping[str, Any], ordinal: str, *, namespaced: bool
) -> tuple[Mapping[str, Any], str, str]:
    """`(metadata, namespace, name)` of an object; namespace defaults to `default` ("" if cluster-scoped).

    `ordinal` (e.g. `#3`) names the object in the error when `metadata.name` is missing.
    """
    unnamed = f"{kind} {ordinal or '<unnamed>'}"
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        problem = "missing required field" if meta is None else f"expected an object, got {_type_name(meta)}"
        raise SnapshotLoadError(problem, obj=unnamed, field="metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        problem = "missing required field" if not name else f"expected a string, got {name!r}"
        raise SnapshotLoadError(problem, obj=unnamed, field="metadata.name")
    if not namespaced:
        return meta, "", name
    namespace = meta.get("namespace") or "default"
    if not isinstance(namespace, str):
        raise SnapshotLoadError(
            f"expected a string, got {namespace!r}", obj=f"{kind} {name}", field="metadata.namespace"
        )
    return meta, namespace, name
