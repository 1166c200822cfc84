"""`cloud_findings`: what the cloud probe's outcomes mean, as findings -- pure, on `CloudEvidence`.

Called by doctor's orchestration with `doctor.cloud_gather.gather_cloud`'s evidence (or a recorded
one). The probe ran with the credentials doctor has, which are the ones kubewise would be handed to
run the cluster (`kubewise onboard` creates them); the agent's own are checked from its logs.
"""

from __future__ import annotations

from kubewise.doctor.cloud_evidence import CloudEvidence
from kubewise.doctor.findings import Finding

__all__ = ["cloud_findings"]

_DENIED = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess"}
_REJECTED = {
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "RequestExpired",
    "UnrecognizedClientException",
}
_POLICY = "AmazonEC2ReadOnlyAccess"


def _no_credentials(ev: CloudEvidence) -> list[Finding]:
    if ev.credentials:
        return []
    cause = (
        "No AWS credentials were found in the environment, the shared config files, SSO, a web identity or "
        f"the instance profile, so nothing in {ev.region} could be checked: without credentials kubewise "
        "cannot read EC2 (spot nodes are priced as on-demand) or run the cluster's nodes."
    )
    fix = (
        "Run doctor with the credentials kubewise uses for this cluster (AWS_PROFILE=..., or "
        "`aws sso login`), or create them with `kubewise onboard`."
    )
    return [Finding("cloud.no-aws-credentials", "error", "No AWS credentials", cause, fix)]


def _ec2_read(ev: CloudEvidence) -> list[Finding]:
    denied = sorted(a for a, outcome in ev.outcomes.items() if outcome in _DENIED)
    if not denied:
        return []
    who = ev.identity or "these credentials"
    codes = ", ".join(sorted({ev.outcomes[a] for a in denied}))
    cause = (
        f"AWS refuses {', '.join(denied)} in {ev.region} to {who} ({codes}): without EC2 read access "
        "spot nodes are shown, and priced, as on-demand, and live spot prices cannot be read."
    )
    fix = (
        f"Attach the {_POLICY} managed policy (or a policy allowing {', '.join(denied)}) to {who}; "
        "`kubewise onboard` grants it."
    )
    evidence = tuple(f"{a}: {ev.outcomes[a]} {ev.messages.get(a, '')}".strip() for a in denied)
    title = "Missing EC2 read permission: spot nodes are shown as on-demand"
    return [Finding("cloud.ec2-read-denied", "error", title, cause, fix, evidence)]


def _rejected(ev: CloudEvidence) -> list[Finding]:
    rejected = sorted(a for a, outcome in ev.outcomes.items() if outcome in _REJECTED)
    if not rejected:
        return []
    codes = sorted({ev.outcomes[a] for a in rejected})
    cause = (
        f"AWS rejects the credentials themselves ({', '.join(codes)}): the access key was deleted or "
        "deactivated, the secret does not match it, or the session expired."
    )
    fix = "Renew them (`aws sso login`, a new access key, or `kubewise onboard` again) and run doctor again."
    evidence = tuple(f"{a}: {ev.outcomes[a]} {ev.messages.get(a, '')}".strip() for a in rejected)
    return [
        Finding(
            "cloud.aws-credentials-rejected", "error", "AWS rejects the credentials", cause, fix, evidence
        )
    ]


def _unanswered(ev: CloudEvidence) -> list[Finding]:
    other = sorted(a for a, outcome in ev.outcomes.items() if outcome not in {"ok", *_DENIED, *_REJECTED})
    if not other:
        return []
    cause = f"EC2 in {ev.region} could not be asked: " + "; ".join(
        f"{a}: {ev.outcomes[a]} {ev.messages.get(a, '')}".strip() for a in other
    )
    fix = "Check the network path to the EC2 endpoint (proxy, VPC endpoint) and that the region is right."
    return [Finding("cloud.ec2-unanswered", "warning", "EC2 did not answer doctor's checks", cause, fix)]


def cloud_findings(ev: CloudEvidence) -> tuple[list[Finding], list[str]]:
    """The findings on `ev` and the checks that ran (none when the cloud was not probed)."""
    if not ev.probed:
        return [], []
    if not ev.credentials:
        return _no_credentials(ev), ["cloud.aws-credentials"]
    found = _rejected(ev) + _ec2_read(ev) + _unanswered(ev)
    return found, ["cloud.aws-credentials", "cloud.ec2-read"]
