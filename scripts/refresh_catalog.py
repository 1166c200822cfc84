#!/usr/bin/env python3
"""Re-pack the instance-type catalog into `src/kubewise/catalog/data/` from a directory of raw files.

Maintainer tool, run by hand when the catalog is refreshed; never used at run time (the program only
reads the packaged copy, via `kubewise.catalog.loading`). The source directory must hold `aws.json`,
`gcp.json`, `azure.json`, `aws-max-pods.json` and `README.md` (the provenance record). The JSON files
are gzipped byte for byte (deterministic: no file name or timestamp in the gzip header, so an unchanged
input gives an unchanged `.gz`); the README is copied verbatim to `PROVENANCE.md` under a short note
giving the SHA-256 of every uncompressed file.

    python scripts/refresh_catalog.py /path/to/catalog-dir [--dest src/kubewise/catalog/data]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

PROVIDERS = ("aws", "gcp", "azure")
MAX_PODS_FILE = "aws-max-pods.json"
JSON_FILES = (*(f"{p}.json" for p in PROVIDERS), MAX_PODS_FILE)
README = "README.md"
PROVENANCE = "PROVENANCE.md"
DEFAULT_DEST = Path(__file__).resolve().parent.parent / "src" / "kubewise" / "catalog" / "data"
RECORD_FIELDS = {
    "name",
    "vcpu",
    "memory_mib",
    "arch",
    "gpu",
    "gpu_model",
    "family",
    "on_demand_hourly_usd",
    "spot_hourly_usd",
}

NOTE = """<!-- Packaging note, written by scripts/refresh_catalog.py; below the rule: the original README. -->
> **Packaged copy.** The JSON files described below are stored here gzipped, byte for byte
> (`aws.json` -> `aws.json.gz`, ...), and read by `kubewise.catalog.loading` via `importlib.resources`.
> To refresh, put new files (same layout) and their README in a directory and run
> `python scripts/refresh_catalog.py <dir>` from the repository root; then run `pytest tests/catalog`
> and update the per-region counts the tests check. SHA-256 of the uncompressed files:
>
{hashes}

---

"""


def _check(name: str, raw: bytes) -> None:
    """Fail loudly on a file the loader could not read."""
    data = json.loads(raw)
    if name == MAX_PODS_FILE:
        types = data["types"]
        if not types or not all(isinstance(v.get("max_pods"), int) for v in types.values()):
            raise ValueError(f"{name}: every type needs an integer max_pods")
        return
    provider = name.removesuffix(".json")
    if data.get("provider") != provider:
        raise ValueError(f"{name}: provider is {data.get('provider')!r}, expected {provider!r}")
    regions = data["regions"]
    if not regions:
        raise ValueError(f"{name}: no regions")
    for region, records in regions.items():
        for record in records:
            missing = RECORD_FIELDS - record.keys()
            if missing:
                raise ValueError(f"{name} {region} {record.get('name')}: missing {sorted(missing)}")


def repack(source: Path, dest: Path) -> list[Path]:
    """Validate and pack `source` into `dest`; returns the files written."""
    raws = {name: (source / name).read_bytes() for name in (*JSON_FILES, README)}
    for name in JSON_FILES:
        _check(name, raws[name])
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in JSON_FILES:
        out = dest / f"{name}.gz"
        out.write_bytes(gzip.compress(raws[name], compresslevel=9, mtime=0))
        written.append(out)
    hashes = "\n".join(f"> - `{name}`: `{hashlib.sha256(raws[name]).hexdigest()}`" for name in JSON_FILES)
    out = dest / PROVENANCE
    out.write_bytes(NOTE.format(hashes=hashes).encode() + raws[README])
    written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="directory holding the raw catalog files")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="packaged data directory")
    args = parser.parse_args(argv)
    try:
        written = repack(args.source, args.dest)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"refresh_catalog: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
