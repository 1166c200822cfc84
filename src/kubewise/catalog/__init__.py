"""Catalog: instance types and prices per provider/region, node allocatable, and pricing existing nodes.

- `types`: `InstanceType`, `RegionCatalog` (plain data).
- `loading`: `load_region`, `available_regions` from the data packaged in `catalog/data/`.
- `allocatable`: what a new node of a type offers to pods (per-provider reservations).
- `pricing`: `price_node`, `infer_location` for the nodes a cluster already has.

Used by the optimizer, the CLI and the benchmarks; depends only on `kubewise.model`.
"""

from kubewise.catalog.allocatable import node_allocatable, node_capacity
from kubewise.catalog.loading import PROVIDERS, CatalogError, available_regions, load_region
from kubewise.catalog.pricing import NodePrice, infer_location, price_node, with_spot_prices
from kubewise.catalog.types import InstanceType, RegionCatalog

__all__ = [
    "PROVIDERS",
    "CatalogError",
    "InstanceType",
    "NodePrice",
    "RegionCatalog",
    "available_regions",
    "infer_location",
    "load_region",
    "node_allocatable",
    "node_capacity",
    "price_node",
    "with_spot_prices",
]
