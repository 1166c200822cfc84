"""Errors the services raise; `app` turns each into its HTTP status and a JSON body."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Conflict", "FieldViolation", "Forbidden", "Invalid", "NotFound", "ServiceError", "Unauthorized"]


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class ServiceError(Exception):
    message: str
    violations: list[FieldViolation] = field(default_factory=list)
    status = 400
    code = "bad_request"

    def __str__(self) -> str:
        return self.message


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class Invalid(ServiceError):
    status, code = 422, "invalid"


class ResyncRequired(Conflict):
    """The agent must send a full snapshot before more deltas (the body says `"resync": true`)."""

    code = "resync_required"
