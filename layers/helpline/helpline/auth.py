"""Who is calling the staff API (or the custodian API), and may they use this route?

API Gateway's Cognito authorizer has already checked the token; it passes the token's claims in
`requestContext.authorizer.claims`. Access is denied unless a row of `ROUTE_PERMISSIONS` allows it
("fail closed for data", DESIGN.md): a route without a row is open to nobody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

GROUPS: Final = frozenset({"volunteer", "mentor", "staff", "professional", "compliance", "admin"})
"""The Cognito groups of template.yaml."""

RouteKey = tuple[str, str]
"""(HTTP method, API Gateway resource path as in template.yaml, e.g. "/lines/{line_id}")."""

ROUTE_PERMISSIONS: Final[Mapping[RouteKey, frozenset[str]]] = {
    # P8: staff may see the anonymised registration, including which lines exist.
    ("GET", "/lines"): frozenset({"staff", "admin"}),
    # Admins maintain the line registry; what could put callers on an office line (P11) is a proposal
    # that a second admin decides (four eyes, checked in `logic.lines`).
    ("PUT", "/lines/{line_id}"): frozenset({"admin"}),
    ("DELETE", "/lines/{line_id}"): frozenset({"admin"}),
    ("GET", "/lines/changes"): frozenset({"admin"}),
    ("POST", "/lines/changes/{change_id}/approve"): frozenset({"admin"}),
    ("POST", "/lines/changes/{change_id}/reject"): frozenset({"admin"}),
    # P8: the anonymised register, for staff and for mentors who coach volunteers.
    ("GET", "/contacts"): frozenset({"staff", "mentor"}),
    ("GET", "/contacts/{id}"): frozenset({"staff", "mentor"}),
    # P8: statistics, cells under k suppressed.
    ("GET", "/stats"): frozenset({"staff"}),
    # P5, P8: a volunteer (or mentor) writes the report of a conversation; the author is the caller.
    ("POST", "/contacts/{id}/reports"): frozenset({"volunteer", "mentor"}),
    # P4: reports for training and quality; a volunteer reads only their own (filtered in the route).
    ("GET", "/contacts/{id}/reports"): frozenset({"volunteer", "mentor", "staff"}),
    ("GET", "/reports"): frozenset({"volunteer", "mentor", "staff"}),
    # P4, P8: transcripts for training, de-identified, every read on the audit log.
    ("GET", "/contacts/{id}/transcript"): frozenset({"mentor", "staff"}),
    # P9: listening in is recorded; a volunteer may only as a trainee (checked in the route).
    ("POST", "/supervision"): frozenset({"mentor", "professional", "volunteer"}),
    ("GET", "/supervision"): frozenset({"staff"}),
    # P6, P7: only a professional (beroepskracht) may ask for a disclosure, and only compliance decides;
    # a professional sees only their own requests and results (filtered in the route).
    ("POST", "/disclosures"): frozenset({"professional"}),
    ("GET", "/disclosures"): frozenset({"professional", "compliance"}),
    ("GET", "/disclosures/{id}"): frozenset({"professional", "compliance"}),
    ("POST", "/disclosures/{id}/approve"): frozenset({"compliance"}),
    ("POST", "/disclosures/{id}/reject"): frozenset({"compliance"}),
    ("GET", "/disclosures/{id}/result"): frozenset({"professional"}),
    # The audit log, for the people who must be able to prove what happened.
    ("GET", "/audit"): frozenset({"compliance"}),
    ("GET", "/audit/verify"): frozenset({"compliance"}),
}
"""The one table of who may call what; every staff route of template.yaml has a row."""

CUSTODIAN_GROUP: Final = "custodian"
"""The one group of the custodian's own user pool (infrastructure/custodian/template.yaml)."""
CUSTODIAN_GROUPS: Final = frozenset({CUSTODIAN_GROUP})

CUSTODIAN_ROUTE_PERMISSIONS: Final[Mapping[RouteKey, frozenset[str]]] = {
    # P3, P7: the custodian (the provider holding the identifier keys) confirms or refuses every
    # release the organisation approved; only its own officers, in its own user pool, see or decide.
    ("GET", "/releases"): CUSTODIAN_GROUPS,
    ("GET", "/releases/{disclosure_id}"): CUSTODIAN_GROUPS,
    ("POST", "/releases/{disclosure_id}/confirm"): CUSTODIAN_GROUPS,
    ("POST", "/releases/{disclosure_id}/refuse"): CUSTODIAN_GROUPS,
}
"""The custodian API's table, apart from the organisation's: no organisation group appears in it, and
no custodian route in `ROUTE_PERMISSIONS`, so neither user pool's groups open the other's routes."""


class AccessDenied(Exception):
    """The request may not proceed; `status` and `message` are what the caller is told."""

    status: int = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(AccessDenied):
    """No signed-in user: the event carries no authorizer claims (401)."""

    status = 401


class Forbidden(AccessDenied):
    """A signed-in user whose groups do not include one the route allows (403)."""

    status = 403


@dataclass(frozen=True)
class Caller:
    """A signed-in staff member, volunteer or custodian officer (never a person who contacts a helpline)."""

    username: str
    groups: frozenset[str]


KNOWN_GROUPS: Final = frozenset(
    group
    for table in (ROUTE_PERMISSIONS, CUSTODIAN_ROUTE_PERMISSIONS)
    for groups in table.values()
    for group in groups
)
"""Every group a permission table names: the only names a flattened `cognito:groups` claim may hold."""


def parse_groups(raw: object) -> frozenset[str]:
    """Groups from the `cognito:groups` claim, in any of the forms it arrives in.

    A list (JSON claims) is taken as it is. A string, as API Gateway flattens a list claim ("staff,admin"
    or "[staff admin]"), is trusted only if every part is one of our groups: Cognito allows commas and
    spaces in a group name, so a group named `x,compliance` would otherwise read as `compliance`. Such a
    claim grants nothing (fail closed; ask an admin to rename the group).
    """
    if isinstance(raw, list | tuple):
        return frozenset(item for item in raw if isinstance(item, str) and item)
    if not isinstance(raw, str):
        return frozenset()
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    parts = {part.strip("\"'") for part in re.split(r"[\s,]+", text)} - {""}
    return frozenset(parts) if parts <= KNOWN_GROUPS else frozenset()


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """The caller of an API Gateway REST proxy event; NotAuthenticated without claims."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if not isinstance(claims, Mapping):
        raise NotAuthenticated("Unauthorized")
    username = claims.get("cognito:username")
    if not isinstance(username, str) or not username.strip():
        raise NotAuthenticated("Unauthorized")
    return Caller(username=username, groups=parse_groups(claims.get("cognito:groups")))


def route_key(
    event: Mapping[str, Any], permissions: Mapping[RouteKey, frozenset[str]] = ROUTE_PERMISSIONS
) -> RouteKey | None:
    """The (method, resource) of the event, as keys of the permission table are written.

    API Gateway gives the template's resource path in `resource`; if an event lacks it, the concrete
    path is matched against the table's paths.
    """
    method = str(event.get("httpMethod") or "").upper()
    resource = event.get("resource")
    if isinstance(resource, str) and resource:
        return (method, resource)
    path = event.get("path")
    if not isinstance(path, str):
        return None
    for known_method, template in permissions:
        if known_method == method and _template_regex(template).fullmatch(path):
            return (method, template)
    return None


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def check_permission(
    caller: Caller,
    key: RouteKey | None,
    permissions: Mapping[RouteKey, frozenset[str]] = ROUTE_PERMISSIONS,
) -> None:
    """Forbidden unless one of the caller's groups is allowed on the route by `permissions`."""
    allowed = permissions.get(key, frozenset()) if key is not None else frozenset()
    if not allowed:
        raise Forbidden("Forbidden: no group may use this route")
    if caller.groups.isdisjoint(allowed):
        raise Forbidden(f"Forbidden: this route is for the groups {', '.join(sorted(allowed))}")


def authorize(
    event: Mapping[str, Any], permissions: Mapping[RouteKey, frozenset[str]] = ROUTE_PERMISSIONS
) -> Caller:
    """The caller of `event` if the permission table (the organisation's unless another is given, such
    as `CUSTODIAN_ROUTE_PERMISSIONS`) lets them use its route; else AccessDenied."""
    caller = caller_from_event(event)
    check_permission(caller, route_key(event, permissions), permissions)
    return caller
