"""Resource quantities in the integer units the kube-scheduler compares.

Used by every core package. cpu is held in millicores, memory / ephemeral-storage / hugepages in
bytes, and every other resource (pods, extended resources such as `nvidia.com/gpu`) as a plain count,
so all comparisons are exact integer arithmetic, as in the scheduler's `framework.Resource`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

from kubernetes.utils.quantity import parse_quantity

__all__ = ["CPU", "EPHEMERAL_STORAGE", "GPU_NVIDIA", "MEMORY", "PODS", "Resources", "parse_resource_quantity"]

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"
GPU_NVIDIA = "nvidia.com/gpu"


def parse_resource_quantity(resource: str, value: object) -> int:
    """Parse a Kubernetes quantity for `resource` into its integer unit (cpu -> millicores).

    Rounds up like the API server's `MilliValue()` / `Value()`. Raises ValueError with the
    offending text when the quantity cannot be parsed.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"invalid quantity {value!r}")
    try:
        parse: Callable[[object], Decimal] = parse_quantity  # untyped in some client releases
        quantity = parse(value)
    except (ValueError, TypeError, ArithmeticError) as exc:  # incl. Infinity/NaN overflow
        raise ValueError(f"invalid quantity {value!r}") from exc
    if quantity < 0:
        raise ValueError(f"negative quantity {value!r}")
    if resource == CPU:
        quantity *= 1000
    return math.ceil(quantity)


class Resources(Mapping[str, int]):
    """An immutable map resource-name -> integer amount; missing resources read as 0."""

    __slots__ = ("_amounts", "_hash")

    def __init__(self, amounts: Mapping[str, int] | None = None) -> None:
        self._amounts: dict[str, int] = {k: int(v) for k, v in (amounts or {}).items() if v}
        self._hash: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, object]) -> Resources:
        """Parse a `resources.requests`-style mapping; ValueError names the bad resource."""
        out: dict[str, int] = {}
        for name, value in raw.items():
            try:
                out[name] = parse_resource_quantity(name, value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return cls(out)

    def __getitem__(self, key: str) -> int:
        return self._amounts.get(key, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(self._amounts)

    def __len__(self) -> int:
        return len(self._amounts)

    def __contains__(self, key: object) -> bool:
        return key in self._amounts

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._amounts.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Resources):
            return self._amounts == other._amounts
        if isinstance(other, Mapping):
            return self._amounts == {k: v for k, v in other.items() if v}
        return NotImplemented

    def __repr__(self) -> str:
        return f"Resources({self._amounts!r})"

    def __add__(self, other: Mapping[str, int]) -> Resources:
        out = dict(self._amounts)
        for k, v in other.items():
            out[k] = out.get(k, 0) + v
        return Resources(out)

    def __sub__(self, other: Mapping[str, int]) -> Resources:
        out = dict(self._amounts)
        for k, v in other.items():
            out[k] = out.get(k, 0) - v
        return Resources(out)

    def maximum(self, other: Mapping[str, int]) -> Resources:
        """Per-resource maximum (used for init containers)."""
        out = dict(self._amounts)
        for k, v in other.items():
            out[k] = max(out.get(k, 0), v)
        return Resources(out)

    def fits_in(self, available: Mapping[str, int]) -> bool:
        """True when every requested amount is <= the amount available."""
        return all(v <= available.get(k, 0) for k, v in self._amounts.items() if v > 0)

    def shortfall(self, available: Mapping[str, int]) -> list[str]:
        """Names of the resources whose request exceeds what is available."""
        return sorted(k for k, v in self._amounts.items() if v > 0 and v > available.get(k, 0))

    def as_dict(self) -> dict[str, int]:
        return dict(self._amounts)
