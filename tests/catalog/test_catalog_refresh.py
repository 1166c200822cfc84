"""`scripts/refresh_catalog.py`: re-packing the packaged files reproduces them byte for byte."""

from __future__ import annotations

import gzip
import importlib.util
import json
from importlib.resources import files
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "refresh_catalog.py"
DATA = files("kubewise.catalog") / "data"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_catalog", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unpack(dest: Path) -> None:
    """The packaged data back as the raw directory it was made from."""
    for name in ("aws.json", "gcp.json", "azure.json", "aws-max-pods.json"):
        (dest / name).write_bytes(gzip.decompress((DATA / f"{name}.gz").read_bytes()))
    provenance = (DATA / "PROVENANCE.md").read_bytes()
    (dest / "README.md").write_bytes(provenance[provenance.index(b"\n---\n\n") + len(b"\n---\n\n") :])


def test_repack_is_deterministic(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    unpack(raw)
    assert load_script().main([str(raw), "--dest", str(out)]) == 0
    for name in ("aws.json.gz", "gcp.json.gz", "azure.json.gz", "aws-max-pods.json.gz", "PROVENANCE.md"):
        assert (out / name).read_bytes() == (DATA / name).read_bytes(), name


def test_repack_rejects_a_wrong_provider(tmp_path: Path) -> None:
    unpack(tmp_path)
    data = json.loads((tmp_path / "gcp.json").read_bytes())
    data["provider"] = "aws"
    (tmp_path / "gcp.json").write_text(json.dumps(data))
    assert load_script().main([str(tmp_path), "--dest", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()
