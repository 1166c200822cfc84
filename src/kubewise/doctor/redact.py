"""Secrets out of everything `kubewise debug-bundle` archives (and anything else doctor prints).

Two nets, because either alone misses something: values that are known to be secret (the API keys,
the AWS keys and the kubeconfig token doctor itself used or read, also in their base64 form, which is
how a Secret carries them) are replaced wherever they appear; and patterns that look like a secret
are replaced even when nobody told us about them -- kubewise API keys, AWS access key ids, bearer
tokens, JWTs, passwords in URLs, `password=...`-style assignments, the values under secret-sounding
keys of any JSON document, every value of a Kubernetes Secret, and the values of secret-sounding
environment variables.
Called by `doctor.bundle` on every member before it is written.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(
    r"(secret|passw(or)?d|passwd|token|api[-_]?key|access[-_]?key|credential|authorization|private[-_]?key"
    r"|session|cookie|external[-_]?id)",
    re.IGNORECASE,
)
_PATTERNS = [
    re.compile(r"kw_[0-9a-f]{16}_[A-Za-z0-9_\-]+"),  # a kubewise API key
    re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),  # an AWS access key id
    re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"),  # a JWT (service-account tokens)
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),  # an Authorization header's value
]
# `name = value`, `name: value`, `"name": "value"`, `NAME=value` where the name sounds secret
_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>[A-Za-z0-9_.\-]*(secret|passw(or)?d|passwd|token|api[-_]?key|access[-_]?key|credential)"
    r"[A-Za-z0-9_.\-]*)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;{}\[\]&]+)"
)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+@")  # user:pw@host
_MIN_KNOWN = 6  # shorter "secrets" would redact ordinary words


class Redactor:
    """Replaces secrets in text and in JSON-like documents; `known` are values that must never survive."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for value in known:
            if value and len(value) >= _MIN_KNOWN:
                values.add(value)
                values.add(base64.b64encode(value.encode()).decode())
        self._known = sorted(values, key=len, reverse=True)  # longest first: no partial leftovers

    def text(self, text: str) -> str:
        for value in self._known:
            text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)
        return _ASSIGNMENT.sub(_keep_name, text)

    def document(self, doc: Any) -> Any:
        """A copy of `doc` (dicts, lists, scalars) with every secret replaced."""
        if isinstance(doc, dict):
            if doc.get("kind") == "Secret":
                return self._secret_object(doc)
            return {key: self._field(key, value, doc) for key, value in doc.items()}
        if isinstance(doc, list):
            return [self.document(item) for item in doc]
        if isinstance(doc, str):
            return self.text(doc)
        return doc

    def _field(self, key: Any, value: Any, parent: dict[Any, Any]) -> Any:
        if isinstance(value, str) and value and _SECRET_NAME.search(str(key)):
            return REDACTED
        if key == "value" and isinstance(value, str) and _SECRET_NAME.search(str(parent.get("name", ""))):
            return REDACTED  # an environment variable: {"name": "API_KEY", "value": "..."}
        return self.document(value)

    def _secret_object(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = {key: self.document(value) for key, value in doc.items() if key not in ("data", "stringData")}
        for key in ("data", "stringData"):
            if isinstance(doc.get(key), dict):
                out[key] = dict.fromkeys(doc[key], REDACTED)
        return out


def _keep_name(match: re.Match[str]) -> str:
    if match.group("value") == REDACTED:
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"
