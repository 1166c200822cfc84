"""`kubewise onboard` / `kubewise offboard`: hand the platform a cluster's AWS credentials, or take them back.

Onboard, in order: checks the platform knows the cluster and the key works (before anything changes);
the IAM side (`kubewise.cloud.aws.onboarding`); on EKS the aws-auth mapping (`kubewise.agent.aws_auth`)
through the kubeconfig; then stores the credentials on the platform. Offboard undoes the three in the
opposite order of trust: the platform stops holding them first. Every step prints what it created,
updated, found unchanged or deleted; `--dry-run` prints the same and changes nothing. The secret access
key (and a role's external id) is printed only with `--show-credentials`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kubewise.agent.aws_auth import AwsAuthError, map_identities, unmap_identities
from kubewise.agent.cluster_reader import ClusterReadError, connect_api
from kubewise.cli.api_client import DEFAULT_SERVER, ApiError, PlatformClient, ServerOpt
from kubewise.cli.inputs import EXIT_USAGE, CliError
from kubewise.cloud.aws.onboarding import (
    OnboardingError,
    OnboardRequest,
    OnboardResult,
    mapped_arns,
    offboard,
    onboard,
)

__all__ = ["offboard_command", "onboard_command"]

Opt = typer.Option
ProviderOpt = Annotated[str, Opt("--provider", help="eks or kops.")]
NameOpt = Annotated[str, Opt("--cluster-name", help="The cluster's name in AWS (EKS) or kOps.")]
RegionOpt = Annotated[str, Opt("--region", help="AWS region of the cluster.")]
ClusterIdOpt = Annotated[str, Opt("--cluster-id", help="The cluster's id on the platform.")]
KeyOpt = Annotated[
    str, Opt("--api-key", envvar="KUBEWISE_API_KEY", help="A 'full' API key.", show_default=False)
]
ContextOpt = Annotated[str | None, Opt("--context", help="EKS: kubeconfig context (aws-auth).")]
KubeconfigOpt = Annotated[str | None, Opt("--kubeconfig", help="EKS: kubeconfig file.")]
RoleOpt = Annotated[bool, Opt("--cross-account-role", help="A role the platform assumes, not a user.")]
PrincipalOpt = Annotated[str | None, Opt("--trusted-principal", help="The platform's IAM principal ARN.")]
ExternalIdOpt = Annotated[str | None, Opt("--external-id", help="Role's external id (default: generated).")]
DryRunOpt = Annotated[bool, Opt("--dry-run", help="Print every change, make none.")]
OutputOpt = Annotated[str, Opt("--output", "-o", help="table or json.")]


@dataclass(frozen=True, slots=True)
class _Step:
    where: str  # aws | kubernetes | platform
    resource: str
    name: str
    action: str


def _check(provider: str, output: str, role: bool, principal: str | None) -> None:
    if provider not in ("eks", "kops"):
        raise CliError(f"--provider must be eks or kops, got {provider!r}", EXIT_USAGE)
    if output not in ("table", "json"):
        raise CliError(f"--output must be table or json, got {output!r}", EXIT_USAGE)
    if role and not principal:
        raise CliError("--cross-account-role needs --trusted-principal ARN", EXIT_USAGE)
    if principal and not principal.startswith("arn:aws"):
        raise CliError(
            f"--trusted-principal must be an IAM ARN (arn:aws:iam::...), got {principal!r}", EXIT_USAGE
        )


def _path(cluster_id: str) -> str:
    return f"/v1/kubernetes/clusters/{cluster_id}/cloud-credentials"


def _held(platform: PlatformClient, cluster_id: str) -> dict[str, Any] | None:
    """The platform's current credentials for the cluster (type and ids, never the secret), or None."""
    try:
        doc: dict[str, Any] = platform.request("GET", _path(cluster_id))
    except ApiError as exc:
        if exc.status == 404:  # none yet (an unknown cluster is said by the PUT that follows)
            return None
        raise
    return doc


def _store(
    platform: PlatformClient,
    cluster_id: str,
    result: OnboardResult,
    held: dict[str, Any] | None,
    dry_run: bool,
) -> _Step:
    """PUT the credentials when they are new or changed; the platform's copy is kept when AWS kept them."""
    body: dict[str, Any]
    if result.external_id is not None:
        ident = result.identity_arn.rsplit("/", 1)[-1]
        trust_kept = all(
            c.action == "unchanged" for c in result.changes if c.resource == "iam-role" and c.name == ident
        )
        unchanged = held is not None and held.get("roleArn") == result.identity_arn and trust_kept
        body = {"type": "role", "roleArn": result.identity_arn, "externalId": result.external_id}
    else:  # a key is kept only when it is the one the platform holds
        unchanged = result.access_key_id is not None and result.secret_access_key is None
        body = {
            "type": "access-key",
            "accessKeyId": result.access_key_id,
            "secretAccessKey": result.secret_access_key,
        }
    name = f"cluster {cluster_id}"
    if unchanged:
        return _Step("platform", "cloud-credentials", name, "unchanged")
    if not dry_run:
        platform.request("PUT", _path(cluster_id), body)
    return _Step("platform", "cloud-credentials", name, "created" if held is None else "updated")


def _render(
    console: Console, steps: list[_Step], dry_run: bool, summary: dict[str, Any], output: str
) -> None:
    if output == "json":
        doc = {"dryRun": dry_run, **summary, "changes": [_as_dict(s) for s in steps]}
        typer.echo(json.dumps(doc, indent=2))
        return
    table = Table(title="kubewise " + ("(dry run: nothing changed)" if dry_run else "changes"))
    for column in ("where", "resource", "name", "action"):
        table.add_column(column)
    for s in steps:
        action = f"would be {s.action}" if dry_run and s.action not in ("unchanged", "absent") else s.action
        table.add_row(s.where, s.resource, s.name, action)
    console.print(table)
    for key, value in summary.items():
        console.print(f"{key}: {value}", highlight=False, soft_wrap=True)


def _as_dict(step: _Step) -> dict[str, str]:
    return {"where": step.where, "resource": step.resource, "name": step.name, "action": step.action}


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.code if isinstance(exc, CliError) else 1)


def _credentials(result: OnboardResult, show: bool) -> dict[str, Any]:
    if result.external_id is not None:
        out: dict[str, Any] = {"roleArn": result.identity_arn}
        if show:
            out["externalId"] = result.external_id
        return out
    out = {"accessKeyId": result.access_key_id}
    if show:
        out["secretAccessKey"] = result.secret_access_key or "(unchanged: shown only when made; --rotate-key)"
    return out


def _aws_steps(changes: list[Any]) -> list[_Step]:
    return [_Step("aws", c.resource, c.name, c.action) for c in changes]


def _kube_steps(changes: list[Any]) -> list[_Step]:
    return [_Step("kubernetes", c.resource, c.name, c.action) for c in changes]


def onboard_command(
    provider: ProviderOpt,
    cluster_name: NameOpt,
    region: RegionOpt,
    cluster_id: ClusterIdOpt,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = "",
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    cross_account_role: RoleOpt = False,
    trusted_principal: PrincipalOpt = None,
    external_id: ExternalIdOpt = None,
    rotate_key: Annotated[bool, Opt("--rotate-key", help="Replace the access key by a new one.")] = False,
    dry_run: DryRunOpt = False,
    show_credentials: Annotated[
        bool, Opt("--show-credentials", help="Also print the secret access key / external id.")
    ] = False,
    output: OutputOpt = "table",
) -> None:
    """Create (or bring up to date) the cluster's AWS identity and policies and store it on the platform."""
    try:
        _check(provider, output, cross_account_role, trusted_principal)
        with PlatformClient(server, api_key) as platform:
            platform.request("GET", f"/v1/kubernetes/external-clusters/{cluster_id}")  # before any change
            held = _held(platform, cluster_id)
            request = OnboardRequest(
                provider,
                cluster_name,
                region,
                cross_account_role=cross_account_role,
                trusted_principal=trusted_principal,
                external_id=external_id,
                rotate_key=rotate_key,
                platform_key_id=(held or {}).get("accessKeyId"),
            )
            api = connect_api(context, kubeconfig) if provider == "eks" else None  # fail before AWS changes
            result = onboard(request, dry_run=dry_run)
            steps = _aws_steps(result.changes)
            if api is not None:
                user = None if cross_account_role else result.identity_arn  # as the reference: no user to map
                steps += _kube_steps(
                    map_identities(api, user_arn=user, node_role_arn=result.node_role_arn, dry_run=dry_run)
                )
            steps.append(_store(platform, cluster_id, result, held, dry_run))
    except (CliError, OnboardingError, AwsAuthError, ClusterReadError) as exc:
        raise _fail(exc) from None
    summary: dict[str, Any] = {
        "accountId": result.account_id,
        "vpcId": result.vpc_id,
        "identityArn": result.identity_arn,
    }
    summary["credentials"] = _credentials(result, show_credentials)
    _render(Console(), steps, dry_run, summary, output)


def offboard_command(
    provider: ProviderOpt,
    cluster_name: NameOpt,
    region: RegionOpt,
    cluster_id: ClusterIdOpt,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = "",
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    output: OutputOpt = "table",
) -> None:
    """Remove everything `kubewise onboard` made for the cluster, and the platform's copy of it."""
    try:
        _check(provider, output, False, None)
        with PlatformClient(server, api_key) as platform:
            held = _held(platform, cluster_id)
            name = f"cluster {cluster_id}"
            steps = [_Step("platform", "cloud-credentials", name, "absent" if held is None else "deleted")]
            api = connect_api(context, kubeconfig) if provider == "eks" else None
            if held is not None and not dry_run:
                platform.request("DELETE", _path(cluster_id))
            request = OnboardRequest(provider, cluster_name, region)
            if api is not None:
                user_arn, node_role_arn = mapped_arns(request)
                steps += _kube_steps(
                    unmap_identities(api, user_arn=user_arn, node_role_arn=node_role_arn, dry_run=dry_run)
                )
            steps += _aws_steps(offboard(request, dry_run=dry_run).changes)
    except (CliError, OnboardingError, AwsAuthError, ClusterReadError) as exc:
        raise _fail(exc) from None
    _render(Console(), steps, dry_run, {}, output)
