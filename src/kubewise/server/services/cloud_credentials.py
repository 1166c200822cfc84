"""A cluster's cloud credentials on the platform: stored by `kubewise onboard`, removed by `offboard`.

Called by `routes.cloud_credentials` (PUT / GET / DELETE) and, for the decrypted secret, by whatever acts
on the cloud for the cluster (`load_credentials`). The API never returns the secret part: an access key
shows its id, a role its ARN; the secret access key and the external id are kept only encrypted.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.orm import Session

from kubewise.server.db import cloud_credentials as repo
from kubewise.server.db.repositories import add
from kubewise.server.db.tables import CloudCredentialRow
from kubewise.server.services.errors import NotFound
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.secret_box import open_box
from kubewise.server.settings import ServerSettings

__all__ = [
    "AccessKeyBody",
    "CloudCredentials",
    "CredentialsBody",
    "CredentialsView",
    "RoleBody",
    "delete_credentials",
    "get_credentials",
    "load_credentials",
    "put_credentials",
]


class AccessKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["access-key"]
    access_key_id: str = Field(alias="accessKeyId", pattern=r"^[A-Z0-9]{16,128}$")
    secret_access_key: SecretStr = Field(alias="secretAccessKey", min_length=1, max_length=256)


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["role"]
    role_arn: str = Field(
        alias="roleArn", max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"
    )
    # what AWS accepts as sts:ExternalId
    external_id: SecretStr = Field(alias="externalId", min_length=2, max_length=1224)


CredentialsBody = Annotated[AccessKeyBody | RoleBody, Field(discriminator="type")]


class CredentialsView(BaseModel):
    """What GET answers: never the secret."""

    model_config = ConfigDict(populate_by_name=True)
    type: str
    access_key_id: str | None = Field(default=None, alias="accessKeyId")
    role_arn: str | None = Field(default=None, alias="roleArn")
    updated_at: dt.datetime = Field(alias="updatedAt")


@dataclass(frozen=True, slots=True)
class CloudCredentials:
    """Decrypted, for the code that calls the cloud for the cluster. Its repr hides the secret."""

    kind: str  # access-key | role
    access_key_id: str | None
    role_arn: str | None
    secret: SecretStr  # the secret access key, or the role's external id


def _view(row: CloudCredentialRow) -> CredentialsView:
    return CredentialsView(
        type=row.kind, accessKeyId=row.access_key_id, roleArn=row.role_arn, updatedAt=row.updated_at
    )


def _row(session: Session, cluster_id: str) -> CloudCredentialRow:
    row = repo.credential(session, cluster_id)
    if row is None:
        raise NotFound("this cluster has no cloud credentials: run `kubewise onboard`")
    return row


def get_credentials(session: Session, caller: Caller, cluster_id: str) -> CredentialsView:
    caller.require_user()
    cluster_of(session, caller, cluster_id)
    return _view(_row(session, cluster_id))


def put_credentials(
    session: Session,
    caller: Caller,
    cluster_id: str,
    body: AccessKeyBody | RoleBody,
    now: dt.datetime,
    settings: ServerSettings,
) -> CredentialsView:
    """Store (or replace) the cluster's credentials."""
    caller.require_write()
    cluster_of(session, caller, cluster_id)
    if isinstance(body, AccessKeyBody):
        secret: dict[str, Any] = {"secretAccessKey": body.secret_access_key.get_secret_value()}
        key_id, role_arn = body.access_key_id, None
    else:
        secret, key_id, role_arn = {"externalId": body.external_id.get_secret_value()}, None, body.role_arn
    sealed = open_box(settings).seal(json.dumps(secret))
    row = repo.credential(session, cluster_id)
    if row is None:
        row = CloudCredentialRow(cluster_id=cluster_id, created_at=now, secret="", kind=body.type)
        fresh = True
    else:
        fresh = False
    row.kind, row.access_key_id, row.role_arn, row.secret, row.updated_at = (
        body.type,
        key_id,
        role_arn,
        sealed,
        now,
    )
    if fresh:
        add(session, row)
    return _view(row)


def delete_credentials(session: Session, caller: Caller, cluster_id: str) -> None:
    caller.require_write()
    cluster_of(session, caller, cluster_id)
    if not repo.delete_credential(session, cluster_id):
        raise NotFound("this cluster has no cloud credentials")


def load_credentials(session: Session, cluster_id: str, settings: ServerSettings) -> CloudCredentials | None:
    """The cluster's credentials with the secret decrypted (None when it has none). No caller check:
    for the platform's own use, never for an API answer."""
    row = repo.credential(session, cluster_id)
    if row is None:
        return None
    secret = json.loads(open_box(settings).open(row.secret))
    value = secret.get("secretAccessKey") if row.kind == "access-key" else secret.get("externalId")
    return CloudCredentials(row.kind, row.access_key_id, row.role_arn, SecretStr(str(value)))
