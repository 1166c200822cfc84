"""Reading cluster dump files (JSON / YAML, optionally gzipped, or a directory of them) into documents.

The one place in `model` that does I/O; called only by `model.loading.load_snapshot_from_path`.
Every failure (missing file, bad gzip, bad encoding, malformed JSON/YAML) is a `SnapshotLoadError`
naming the file, and for syntax errors the line and column.
"""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import yaml

from kubewise.model.errors import SnapshotLoadError

__all__ = ["DUMP_SUFFIXES", "dump_files", "parse_documents", "read_documents", "read_text"]

DUMP_SUFFIXES = (".json", ".yaml", ".yml")
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C speed when libyaml is present


def _format_of(path: Path) -> str:
    """`json`, `yaml`, or `` (sniff the content) from the file name, ignoring a `.gz` suffix."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return ""


def dump_files(directory: Path) -> list[Path]:
    """The dump files directly in `directory` (`*.json`, `*.yaml`, `*.yml`, also `.gz`), sorted by name."""
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise SnapshotLoadError(
            f"cannot list directory: {exc.strerror or exc}", source=str(directory)
        ) from None
    return [p for p in entries if _format_of(p) and p.is_file()]


def _decode(data: bytes, source: str) -> str:
    """UTF-8 (BOM tolerated) or UTF-16 with BOM (PowerShell `>` redirection writes that)."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SnapshotLoadError(f"not UTF-8 text (byte offset {exc.start})", source=source) from None


def read_text(path: Path) -> str:
    """The text of `path`, gunzipped when it ends in `.gz`."""
    source = str(path)
    try:
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
    except FileNotFoundError:
        raise SnapshotLoadError("no such file or directory", source=source) from None
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SnapshotLoadError(f"cannot read file: {reason}", source=source) from None
    return _decode(data, source)


def _json_documents(text: str, source: str) -> list[Any]:
    """One JSON value, or several concatenated (`kubectl get nodes -o json; kubectl get pods ...`)."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos, end = 0, len(text)
    try:
        while True:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                return docs
            doc, pos = decoder.raw_decode(text, pos)
            docs.append(doc)
    except json.JSONDecodeError as exc:
        raise SnapshotLoadError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    except RecursionError:
        raise SnapshotLoadError("invalid JSON: nested too deeply", source=source) from None


def _yaml_documents(text: str, source: str) -> list[Any]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=_YAML_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SnapshotLoadError(f"invalid YAML{where}: {problem}", source=source) from None
    except RecursionError:
        raise SnapshotLoadError("invalid YAML: nested too deeply", source=source) from None


def parse_documents(text: str, source: str, fmt: str = "") -> list[Any]:
    """The documents in `text`: `fmt` is `json`, `yaml`, or "" to sniff (`{`/`[` first -> JSON)."""
    stripped = text.lstrip()
    if not stripped:
        raise SnapshotLoadError("file is empty: no Kubernetes objects found", source=source)
    if not fmt:
        fmt = "json" if stripped[0] in "{[" else "yaml"
    docs = _json_documents(text, source) if fmt == "json" else _yaml_documents(text, source)
    if not docs:
        raise SnapshotLoadError("no Kubernetes objects found (the file holds no documents)", source=source)
    return docs


def read_documents(path: Path) -> list[Any]:
    """Read and parse one dump file (format from its name, sniffed if unknown)."""
    return parse_documents(read_text(path), str(path), _format_of(path))
