"""API keys: made of a public id and a secret; only the secret's SHA-256 is stored.

A key reads `kw_<id>_<secret>`. The id finds the row; the secret is checked against the stored hash with
`hmac.compare_digest`, so the comparison takes the same time wherever the strings differ. A fast hash is
right here (unlike for passwords): the secret is 256 random bits, so there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["DUMMY_HASH", "NewKey", "hash_secret", "new_key", "secret_matches", "split_key"]

_PREFIX = "kw"


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


DUMMY_HASH = hash_secret("no such key")  # compared against when the id is unknown: same work either way


def new_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, hash_secret(secret), f"{_PREFIX}_{key_id}_{secret}")


def split_key(presented: str) -> tuple[str, str] | None:
    """`(id, secret)` of a well-formed key, else None."""
    prefix, _, rest = presented.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
