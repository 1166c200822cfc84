"""Write a debug bundle: named members (text, or JSON/YAML documents) into one `.tar.gz`, every member
passed through the `Redactor` first.

The archive is written to a temporary file beside the target and renamed into place at the end, so an
interrupted run leaves either the old file or the whole new one, never half a bundle. Called by
`doctor.bundle`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kubewise.doctor.redact import Redactor

__all__ = ["render_member", "write_archive"]


def render_member(name: str, content: Any, redactor: Redactor) -> bytes:
    """The member's bytes, redacted: text as given, documents as YAML (`.yaml`) or JSON."""
    if isinstance(content, str):
        return redactor.text(content).encode()
    doc = redactor.document(content)
    if name.endswith((".yaml", ".yml")):
        return yaml.safe_dump_all(doc if isinstance(doc, list) else [doc], sort_keys=False).encode()
    return (json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n").encode()


def write_archive(
    target: Path, members: Mapping[str, Any], redactor: Redactor, *, created_at: dt.datetime, root: str
) -> Path:
    """Write `members` under `root/` in `target` (a .tar.gz); returns `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, content in members.items():
                data = render_member(name, content, redactor)
                info = tarfile.TarInfo(f"{root}/{name}")
                info.size, info.mtime, info.mode = len(data), int(created_at.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
        os.chmod(temp, 0o600)  # logs and manifests: for the user and whoever they send it to
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
