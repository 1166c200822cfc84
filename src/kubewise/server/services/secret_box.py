"""Encryption at rest of the secrets the platform keeps (cloud credentials), with Fernet.

Called by `services.cloud_credentials`. The key is `KUBEWISE_SECRET_KEY` when set (what replicas
sharing one PostgreSQL must all be given); otherwise a key file `secret.key` created on first use,
readable by its owner only (0600), beside the SQLite database -- or, for PostgreSQL, in the user data
dir. Losing the key makes the stored secrets unreadable (onboard again); nothing else is affected.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from platformdirs import user_data_dir
from sqlalchemy.engine import make_url

from kubewise.server.services.errors import ServiceError
from kubewise.server.settings import ServerSettings

__all__ = ["SecretBoxError", "key_file", "open_box"]

KEY_FILE = "secret.key"


class SecretBoxError(ServiceError):
    """The encryption key is missing, malformed, or not the one the secret was sealed with."""

    status, code = 500, "secret_key"


def key_file(settings: ServerSettings) -> Path:
    """Where the key lives when `KUBEWISE_SECRET_KEY` is unset."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent / KEY_FILE
    return Path(user_data_dir("kubewise")) / KEY_FILE


def _file_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes starting together keep the one key the first wrote
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key())
    return path.read_bytes().strip()


class _Box:
    def __init__(self, fernet: Fernet) -> None:
        self._fernet = fernet

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError(
                "a stored secret cannot be decrypted: the server's secret key changed "
                "(KUBEWISE_SECRET_KEY or its key file); onboard the cluster again"
            ) from None


def open_box(settings: ServerSettings) -> _Box:
    """The box for this server's key (`SecretBoxError` when `KUBEWISE_SECRET_KEY` is not a Fernet key)."""
    if settings.secret_key is not None:
        raw, where = settings.secret_key.get_secret_value().encode(), "KUBEWISE_SECRET_KEY"
    else:
        path = key_file(settings)
        raw, where = _file_key(path), str(path)
    try:
        return _Box(Fernet(raw))
    except ValueError:
        raise SecretBoxError(
            f"{where} is not a Fernet key (32 bytes, urlsafe base64): make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from None
