"""Instance types and a region's catalog: the plain data the optimizer prices plans with.

Built by `catalog.loading` from the packaged data; read by `optimizer`, the CLI and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT

__all__ = ["InstanceType", "RegionCatalog"]


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One machine type in one region, with its Linux prices in USD per hour."""

    provider: str  # aws | gcp | azure
    region: str
    name: str
    family: str
    vcpu: int
    memory_mib: int
    arch: str  # amd64 | arm64
    gpu: int = 0
    gpu_model: str | None = None
    on_demand_price: float = 0.0
    spot_price: float | None = None
    max_pods: int = 110  # pods the kubelet admits on this type by default for the provider

    def price(self, capacity_type: str) -> float | None:
        """Hourly price for `capacity_type` ("on-demand" | "spot"); None when not offered."""
        if capacity_type == CAPACITY_ON_DEMAND:
            return self.on_demand_price
        if capacity_type == CAPACITY_SPOT:
            return self.spot_price
        raise ValueError(f"unknown capacity type {capacity_type!r}")


@dataclass(frozen=True)
class RegionCatalog:
    """All instance types of one provider in one region, indexed by name."""

    provider: str
    region: str
    types: tuple[InstanceType, ...]
    _by_name: dict[str, InstanceType] = field(init=False, repr=False, compare=False)
    _by_folded_name: dict[str, InstanceType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.types})
        object.__setattr__(self, "_by_folded_name", {t.name.casefold(): t for t in reversed(self.types)})

    def __iter__(self) -> Iterator[InstanceType]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def get(self, name: str) -> InstanceType | None:
        return self._by_name.get(name)

    def lookup(self, name: str) -> InstanceType | None:
        """`get`, falling back to a case-insensitive match (`standard_d2s_v5` finds `Standard_D2s_v5`)."""
        return self._by_name.get(name) or self._by_folded_name.get(name.casefold())

    def cheapest(self, capacity_type: str = CAPACITY_ON_DEMAND) -> InstanceType | None:
        """The lowest-priced type offered at `capacity_type` (ties: by name); None if none is offered."""
        offered = [(price, t.name, t) for t in self.types if (price := t.price(capacity_type)) is not None]
        return min(offered, key=lambda entry: (entry[0], entry[1]))[2] if offered else None

    def filter(
        self,
        *,
        families: Iterable[str] | None = None,
        exclude_families: Iterable[str] | None = None,
        arch: Iterable[str] | None = None,
        gpu: bool | None = None,
        capacity_type: str | None = None,
        min_vcpu: int | None = None,
        max_vcpu: int | None = None,
        min_memory_mib: int | None = None,
        max_memory_mib: int | None = None,
    ) -> RegionCatalog:
        """A sub-catalog. `gpu=True` keeps GPU types only, False drops them; `capacity_type`
        keeps types offered at that capacity type (spot needs a spot price)."""
        fam = set(families) if families is not None else None
        exfam = set(exclude_families or ())
        arches = set(arch) if arch is not None else None
        kept = [
            t
            for t in self.types
            if (fam is None or t.family in fam)
            and t.family not in exfam
            and (arches is None or t.arch in arches)
            and (gpu is None or (t.gpu > 0) == gpu)
            and (capacity_type is None or t.price(capacity_type) is not None)
            and (min_vcpu is None or t.vcpu >= min_vcpu)
            and (max_vcpu is None or t.vcpu <= max_vcpu)
            and (min_memory_mib is None or t.memory_mib >= min_memory_mib)
            and (max_memory_mib is None or t.memory_mib <= max_memory_mib)
        ]
        return RegionCatalog(self.provider, self.region, tuple(kept))
