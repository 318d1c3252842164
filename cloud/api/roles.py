"""Who may do what: roles, their permissions, and the permission each endpoint needs.

Data, not code, so that the README's role table is generated from it
(``python -m cloud.api.roles``) and the role test walks the same table the routes are checked
against: a route whose permission differs from this table fails the tests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple


class Permission(StrEnum):
    READ = "read"
    ACKNOWLEDGE = "acknowledge"
    CONFIGURE = "configure"
    UPLOAD_SNAPSHOTS = "upload-snapshots"
    ENROL = "enrol"
    ADMIN = "admin"


class Role(StrEnum):
    OPERATOR = "operator"
    ENGINEER = "engineer"
    TECHNICIAN = "technician"
    ADMIN = "admin"


_P = Permission
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.OPERATOR: frozenset({_P.READ, _P.ACKNOWLEDGE}),
    Role.ENGINEER: frozenset({_P.READ, _P.ACKNOWLEDGE, _P.CONFIGURE}),
    # Technicians install gateways and cameras; a camera's gateway uploads snapshots with their token
    # until per-gateway credentials come with enrolment.
    Role.TECHNICIAN: frozenset({_P.READ, _P.UPLOAD_SNAPSHOTS, _P.ENROL}),
    Role.ADMIN: frozenset(Permission),
}

ROLE_DESCRIPTIONS: Final[dict[Role, str]] = {
    Role.OPERATOR: "IOC wall staff: read everything, acknowledge alerts",
    Role.ENGINEER: "operator + validate, publish and roll back city configs",
    Role.TECHNICIAN: "read + camera snapshot upload + gateway enrolment on the broker",
    Role.ADMIN: "everything + API tokens + audit log",
}


class Endpoint(NamedTuple):
    method: str
    path: str
    permission: Permission
    summary: str


API = "/api/v1"
ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    Endpoint("GET", f"{API}/cities", _P.READ, "cities served"),
    Endpoint("GET", f"{API}/cities/{{city}}", _P.READ, "one city with counts"),
    Endpoint("GET", f"{API}/cities/{{city}}/sites", _P.READ, "sites"),
    Endpoint("GET", f"{API}/cities/{{city}}/gateways", _P.READ, "gateways"),
    Endpoint("GET", f"{API}/cities/{{city}}/devices", _P.READ, "devices"),
    Endpoint("GET", f"{API}/cities/{{city}}/fleet", _P.READ, "gateway and device health"),
    Endpoint("GET", f"{API}/cities/{{city}}/aqi", _P.READ, "latest VN_AQI per site"),
    Endpoint("GET", f"{API}/cities/{{city}}/wqi", _P.READ, "latest VN_WQI per site"),
    Endpoint("GET", f"{API}/alerts", _P.READ, "alerts, latest state"),
    Endpoint("POST", f"{API}/alerts/{{key}}/acknowledge", _P.ACKNOWLEDGE, "acknowledge an alert"),
    Endpoint(
        "POST", f"{API}/cities/{{city}}/gateways/{{gateway}}/enrol", _P.ENROL, "enrol a gateway on the broker"
    ),
    Endpoint("GET", f"{API}/cities/{{city}}/configs", _P.READ, "config versions"),
    Endpoint("GET", f"{API}/cities/{{city}}/configs/{{version}}", _P.READ, "one version with its YAML"),
    Endpoint("POST", f"{API}/cities/{{city}}/configs/validate", _P.CONFIGURE, "every problem of a YAML"),
    Endpoint("PUT", f"{API}/cities/{{city}}/configs/{{version}}", _P.CONFIGURE, "store and publish"),
    Endpoint(
        "POST", f"{API}/cities/{{city}}/configs/{{version}}/rollback", _P.CONFIGURE, "republish a version"
    ),
    Endpoint("PUT", f"{API}/cameras/{{device}}/snapshots", _P.UPLOAD_SNAPSHOTS, "upload a JPEG"),
    Endpoint("GET", f"{API}/cameras/{{device}}/snapshots", _P.READ, "list snapshots"),
    Endpoint("GET", f"{API}/cameras/{{device}}/snapshots/latest", _P.READ, "latest JPEG"),
    Endpoint("GET", f"{API}/cameras/{{device}}/snapshots/{{snapshot_id}}", _P.READ, "one JPEG"),
    Endpoint("GET", f"{API}/tokens", _P.ADMIN, "API tokens, never their secrets"),
    Endpoint("POST", f"{API}/tokens", _P.ADMIN, "create a token, shown once"),
    Endpoint("DELETE", f"{API}/tokens/{{token_id}}", _P.ADMIN, "revoke a token"),
    Endpoint("GET", f"{API}/audit", _P.ADMIN, "audit log"),
)


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def role_table() -> str:
    """The README's role table, in Markdown."""
    roles = list(Role)
    lines = [
        "| endpoint | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for e in ENDPOINTS:
        cells = " | ".join("✓" if allowed(r, e.permission) else "—" for r in roles)
        lines.append(f"| `{e.method} {e.path}` ({e.summary}) | {cells} |")
    lines += ["", "| role | may |", "|---|---|"]
    lines += [f"| {r} | {ROLE_DESCRIPTIONS[r]} |" for r in roles]
    return "\n".join(lines)


if __name__ == "__main__":
    print(role_table())
