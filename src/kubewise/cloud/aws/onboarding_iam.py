"""Idempotent IAM steps for `kubewise onboard` / `offboard`: each reads first, changes only what differs,
and records what it did (or, in a dry run, what it would do) as a `Change`.

Called by `kubewise.cloud.aws.onboarding` only; every function takes the boto3 IAM client and the run's
`Changes`. Nothing here decides what to create: the names and documents come from `onboarding_policies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

__all__ = [
    "Change",
    "Changes",
    "attached",
    "delete_instance_profile",
    "delete_role",
    "delete_user",
    "ensure_access_key",
    "ensure_attached",
    "ensure_inline",
    "ensure_instance_profile",
    "ensure_managed_policy",
    "ensure_role",
    "ensure_role_tag",
    "ensure_user",
    "exists",
    "remove_managed_policy_if_unused",
    "remove_shared_role",
]

_MAX_POLICY_VERSIONS = 5  # IAM keeps at most five versions of a managed policy


@dataclass(frozen=True, slots=True)
class Change:
    """One thing onboarding made, changed, found as wanted, or removed."""

    resource: str  # iam-user, iam-role, access-key, managed-policy, inline-policy, ...
    name: str
    action: str  # created | updated | unchanged | deleted | absent


@dataclass
class Changes:
    """The run's record; with `dry_run`, the changes are recorded but never made."""

    dry_run: bool
    items: list[Change] = field(default_factory=list)

    def note(self, resource: str, name: str, action: str) -> None:
        self.items.append(Change(resource, name, action))

    def make(self, resource: str, name: str, action: str, do: Callable[[], object]) -> None:
        self.note(resource, name, action)
        if not self.dry_run:
            do()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def exists(call: Callable[[], Any]) -> Any | None:
    """`call()`'s answer, or None when IAM says the entity does not exist."""
    try:
        return call()
    except ClientError as exc:
        if _code(exc) == "NoSuchEntity":
            return None
        raise


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str):
        a = json.loads(a)
    if isinstance(b, str):
        b = json.loads(b)
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def ensure_user(iam: Any, changes: Changes, name: str, tags: dict[str, str]) -> None:
    if exists(lambda: iam.get_user(UserName=name)) is not None:
        changes.note("iam-user", name, "unchanged")
        return
    changes.make("iam-user", name, "created", lambda: iam.create_user(UserName=name, Tags=_tags(tags)))


def ensure_role(
    iam: Any, changes: Changes, name: str, trust: dict[str, Any], description: str, tags: dict[str, str]
) -> dict[str, Any] | None:
    """Creates the role or brings its trust policy up to date; the role as IAM had it before (or None)."""
    found = exists(lambda: iam.get_role(RoleName=name))
    if found is None:
        changes.make(
            "iam-role",
            name,
            "created",
            lambda: iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=description,
                Tags=_tags(tags),
            ),
        )
        return None
    role: dict[str, Any] = found["Role"]
    if _same(role["AssumeRolePolicyDocument"], trust):
        changes.note("iam-role", name, "unchanged")
    else:
        changes.make(
            "iam-role",
            name,
            "updated",
            lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust)),
        )
    return role


def ensure_role_tag(iam: Any, changes: Changes, role: str, key: str, value: str) -> None:
    tags = exists(lambda: iam.list_role_tags(RoleName=role))
    if tags is not None and any(t["Key"] == key and t["Value"] == value for t in tags.get("Tags", [])):
        changes.note("role-tag", f"{role}: {key}", "unchanged")
        return
    changes.make(
        "role-tag",
        f"{role}: {key}",
        "created",
        lambda: iam.tag_role(RoleName=role, Tags=[{"Key": key, "Value": value}]),
    )


def attached(iam: Any, kind: str, name: str) -> list[str]:
    lister = iam.list_attached_user_policies if kind == "user" else iam.list_attached_role_policies
    arg = {"UserName": name} if kind == "user" else {"RoleName": name}
    answer = exists(lambda: lister(**arg))
    return [p["PolicyArn"] for p in (answer or {}).get("AttachedPolicies", [])]


def ensure_attached(iam: Any, changes: Changes, kind: str, name: str, policy_arn: str) -> None:
    """`kind`: user | role."""
    label = f"{name}: {policy_arn.rsplit('/', 1)[-1]}"
    if policy_arn in attached(iam, kind, name):
        changes.note("attached-policy", label, "unchanged")
        return
    if kind == "user":
        changes.make(
            "attached-policy",
            label,
            "created",
            lambda: iam.attach_user_policy(UserName=name, PolicyArn=policy_arn),
        )
    else:
        changes.make(
            "attached-policy",
            label,
            "created",
            lambda: iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn),
        )


def ensure_inline(iam: Any, changes: Changes, kind: str, name: str, policy: str, doc: dict[str, Any]) -> None:
    if kind == "user":
        found = exists(lambda: iam.get_user_policy(UserName=name, PolicyName=policy))

        def put() -> object:
            return iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=json.dumps(doc))
    else:
        found = exists(lambda: iam.get_role_policy(RoleName=name, PolicyName=policy))

        def put() -> object:
            return iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(doc))

    label = f"{name}: {policy}"
    if found is not None and _same(found["PolicyDocument"], doc):
        changes.note("inline-policy", label, "unchanged")
        return
    changes.make("inline-policy", label, "created" if found is None else "updated", put)


def ensure_managed_policy(iam: Any, changes: Changes, arn: str, name: str, doc: dict[str, Any]) -> None:
    """Creates the customer-managed policy, or makes `doc` its default version (dropping the oldest
    version when IAM's limit of five is reached)."""
    found = exists(lambda: iam.get_policy(PolicyArn=arn))
    if found is None:
        changes.make(
            "managed-policy",
            name,
            "created",
            lambda: iam.create_policy(
                PolicyName=name,
                PolicyDocument=json.dumps(doc),
                Description="kubewise: manage nodes of onboarded clusters",
            ),
        )
        return
    current = iam.get_policy_version(PolicyArn=arn, VersionId=found["Policy"]["DefaultVersionId"])
    if _same(current["PolicyVersion"]["Document"], doc):
        changes.note("managed-policy", name, "unchanged")
        return

    def new_version() -> None:
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        if len(versions) >= _MAX_POLICY_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)

    changes.make("managed-policy", name, "updated", new_version)


def ensure_instance_profile(iam: Any, changes: Changes, name: str, role: str) -> None:
    found = exists(lambda: iam.get_instance_profile(InstanceProfileName=name))
    if found is None:
        changes.make(
            "instance-profile",
            name,
            "created",
            lambda: iam.create_instance_profile(InstanceProfileName=name),
        )
        roles: list[str] = []
    else:
        roles = [r["RoleName"] for r in found["InstanceProfile"].get("Roles", [])]
        if role in roles:
            changes.note("instance-profile", name, "unchanged")
            return
    changes.make(
        "instance-profile-role",
        f"{name}: {role}",
        "created",
        lambda: iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role),
    )


def ensure_access_key(
    iam: Any, changes: Changes, user: str, platform_key_id: str | None, rotate: bool
) -> tuple[str | None, str | None]:
    """The user ends with exactly one access key. Kept when it is the one the platform holds (and no
    rotation is asked); otherwise a new one is made and every other removed (their secrets are
    unknown, so nothing could use them). Returns (key id, secret); the secret only when new."""
    answer = exists(lambda: iam.list_access_keys(UserName=user))
    keys = [k["AccessKeyId"] for k in (answer or {}).get("AccessKeyMetadata", [])]
    keep = platform_key_id if platform_key_id in keys and not rotate else None
    for key in keys:
        if key != keep:
            changes.make(
                "access-key",
                f"{user}: {key}",
                "deleted",
                lambda key=key: iam.delete_access_key(UserName=user, AccessKeyId=key),  # type: ignore[misc]
            )
    if keep is not None:
        changes.note("access-key", f"{user}: {keep}", "unchanged")
        return keep, None
    made: dict[str, str] = {}

    def create() -> None:
        made.update(iam.create_access_key(UserName=user)["AccessKey"])

    changes.make("access-key", f"{user}: (new)", "created", create)
    return made.get("AccessKeyId"), made.get("SecretAccessKey")


def _detach_all(iam: Any, changes: Changes, kind: str, name: str) -> None:
    for arn in attached(iam, kind, name):
        label = f"{name}: {arn.rsplit('/', 1)[-1]}"
        if kind == "user":
            changes.make(
                "attached-policy",
                label,
                "deleted",
                lambda arn=arn: iam.detach_user_policy(UserName=name, PolicyArn=arn),  # type: ignore[misc]
            )
        else:
            changes.make(
                "attached-policy",
                label,
                "deleted",
                lambda arn=arn: iam.detach_role_policy(RoleName=name, PolicyArn=arn),  # type: ignore[misc]
            )


def delete_user(iam: Any, changes: Changes, name: str) -> None:
    """The user with its keys, attached and inline policies."""
    if exists(lambda: iam.get_user(UserName=name)) is None:
        changes.note("iam-user", name, "absent")
        return
    for key in iam.list_access_keys(UserName=name).get("AccessKeyMetadata", []):
        kid = key["AccessKeyId"]
        changes.make(
            "access-key",
            f"{name}: {kid}",
            "deleted",
            lambda kid=kid: iam.delete_access_key(UserName=name, AccessKeyId=kid),  # type: ignore[misc]
        )
    _detach_all(iam, changes, "user", name)
    for policy in iam.list_user_policies(UserName=name).get("PolicyNames", []):
        changes.make(
            "inline-policy",
            f"{name}: {policy}",
            "deleted",
            lambda policy=policy: iam.delete_user_policy(UserName=name, PolicyName=policy),  # type: ignore[misc]
        )
    changes.make("iam-user", name, "deleted", lambda: iam.delete_user(UserName=name))


def delete_role(iam: Any, changes: Changes, name: str) -> None:
    """The role with its attached and inline policies, out of any instance profile first."""
    if exists(lambda: iam.get_role(RoleName=name)) is None:
        changes.note("iam-role", name, "absent")
        return
    for profile in iam.list_instance_profiles_for_role(RoleName=name).get("InstanceProfiles", []):
        pname = profile["InstanceProfileName"]
        changes.make(
            "instance-profile-role",
            f"{pname}: {name}",
            "deleted",
            lambda pname=pname: iam.remove_role_from_instance_profile(  # type: ignore[misc]
                InstanceProfileName=pname, RoleName=name
            ),
        )
    _detach_all(iam, changes, "role", name)
    for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
        changes.make(
            "inline-policy",
            f"{name}: {policy}",
            "deleted",
            lambda policy=policy: iam.delete_role_policy(RoleName=name, PolicyName=policy),  # type: ignore[misc]
        )
    changes.make("iam-role", name, "deleted", lambda: iam.delete_role(RoleName=name))


def delete_instance_profile(iam: Any, changes: Changes, name: str) -> None:
    """Called after `delete_role` of its role (which took the role out of it)."""
    if exists(lambda: iam.get_instance_profile(InstanceProfileName=name)) is None:
        changes.note("instance-profile", name, "absent")
        return
    changes.make(
        "instance-profile",
        name,
        "deleted",
        lambda: iam.delete_instance_profile(InstanceProfileName=name),
    )


def remove_shared_role(iam: Any, changes: Changes, role: str, tag_prefix: str, our_tag: str) -> None:
    """A role shared by every onboarded cluster of the account (tagged once per cluster): drop this
    cluster's tag, and the role itself when no other cluster's tag is left."""
    answer = exists(lambda: iam.list_role_tags(RoleName=role))
    if answer is None:
        changes.note("iam-role", role, "absent")
        return
    keys = [t["Key"] for t in answer.get("Tags", []) if t["Key"].startswith(tag_prefix)]
    if our_tag in keys:
        changes.make(
            "role-tag",
            f"{role}: {our_tag}",
            "deleted",
            lambda: iam.untag_role(RoleName=role, TagKeys=[our_tag]),
        )
    if [k for k in keys if k != our_tag]:
        changes.note("iam-role", f"{role} (still used by other clusters)", "unchanged")
        return
    delete_role(iam, changes, role)


def remove_managed_policy_if_unused(iam: Any, changes: Changes, arn: str, name: str, detached: int) -> None:
    """Delete the account-wide policy once nothing else uses it; `detached`: attachments this run
    removed (in a dry run, IAM still counts them)."""
    found = exists(lambda: iam.get_policy(PolicyArn=arn))
    if found is None:
        changes.note("managed-policy", name, "absent")
        return
    remaining = int(found["Policy"].get("AttachmentCount", 0)) - (detached if changes.dry_run else 0)
    if remaining > 0:
        changes.note("managed-policy", f"{name} (still used by other clusters)", "unchanged")
        return

    def delete() -> None:
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)

    changes.make("managed-policy", name, "deleted", delete)
