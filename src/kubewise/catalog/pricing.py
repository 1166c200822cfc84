"""What existing nodes cost: price a node from its labels, and tell where a cluster runs.

Called by `optimizer.report` (the "current cost" side of the savings report) and the CLI
(`infer_location` picks the catalog to load). An unpriceable node is reported with
`hourly_price=None` and a reason; it is never priced as 0.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubewise.catalog.types import RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT, Node

__all__ = ["NodePrice", "infer_location", "price_node", "with_spot_prices"]


@dataclass(frozen=True, slots=True)
class NodePrice:
    """The hourly price of one existing node, or why it could not be priced.

    `known` is True when the catalog has the node's type (the price may still be an estimate, said in
    `reason`); then `hourly_price` is set. Otherwise `hourly_price` is None and `reason` says why.
    """

    node_name: str
    instance_type: str
    capacity_type: str
    hourly_price: float | None
    known: bool
    reason: str = ""


def price_node(node: Node, catalog: RegionCatalog) -> NodePrice:
    """Price `node` (instance type and spot/on-demand from its labels) with `catalog`'s Linux prices.

    Not priced (None): no instance-type label, provider or region different from the catalog's, type not
    in the catalog. A spot node whose type has no spot price is priced at on-demand, noted in `reason`.
    A node with no provider/region facts is priced from the catalog, noted in `reason`.
    """
    where = f"{catalog.provider} {catalog.region}"

    def unpriced(reason: str) -> NodePrice:
        return NodePrice(node.name, node.instance_type, node.capacity_type, None, False, reason)

    if not node.instance_type:
        return unpriced("the node has no instance-type label (node.kubernetes.io/instance-type)")
    if node.provider and node.provider != catalog.provider:
        return unpriced(f"the node runs on {node.provider}, the catalog covers {where}")
    if node.region and node.region != catalog.region:
        node_where = f"{node.provider or catalog.provider} {node.region}"
        return unpriced(f"the node is in {node_where}, the catalog covers {where}")
    if node.capacity_type not in (CAPACITY_ON_DEMAND, CAPACITY_SPOT):
        return unpriced(f"unknown capacity type {node.capacity_type!r}")
    itype = catalog.lookup(node.instance_type)
    if itype is None:
        return unpriced(f"instance type {node.instance_type!r} is not in the {where} catalog")

    notes = []
    if not node.provider or not node.region:
        notes.append(f"the node's provider/region is not known; priced from the {where} catalog")
    price = itype.price(node.capacity_type)
    if price is None:  # only spot can be missing; on-demand is always listed
        price = itype.on_demand_price
        notes.append(f"no spot price for {itype.name!r} in {where}; estimated at the on-demand price")
    return NodePrice(node.name, node.instance_type, node.capacity_type, price, True, "; ".join(notes))


def with_spot_prices(catalog: RegionCatalog, prices: Mapping[str, float]) -> RegionCatalog:
    """`catalog` with the spot prices the cloud quotes now (type -> USD/h) in place of its estimates;
    types the quote leaves out keep the catalog's price."""
    if not prices:
        return catalog
    return RegionCatalog(
        catalog.provider,
        catalog.region,
        tuple(
            dataclasses.replace(t, spot_price=prices[t.name]) if prices.get(t.name, 0) > 0 else t
            for t in catalog.types
        ),
    )


def _most_common(values: Iterable[str]) -> str | None:
    """The most frequent non-empty value; ties go to the alphabetically first. None if there is none."""
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def infer_location(nodes: Iterable[Node]) -> tuple[str | None, str | None]:
    """`(provider, region)` most common among `nodes` (ties broken alphabetically); None when unknown.

    The region is the most common one among nodes of the chosen provider (among all nodes when no node
    names a provider), so a node elsewhere cannot pair a provider with another cloud's region.
    """
    nodes = list(nodes)
    provider = _most_common(n.provider for n in nodes)
    region = _most_common(n.region for n in nodes if provider is None or n.provider == provider)
    return provider, region
