"""The API's request and response shapes (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.api.roles import Role


def from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CitySummary(_Out):
    id: str
    name: str
    province: str
    timezone: str
    sites: int
    gateways: int
    devices: int


class SiteOut(_Out):
    id: str
    name: str
    kind: str
    lat: float
    lon: float


class GatewayOut(_Out):
    id: str
    site: str
    devices: list[str]


class DeviceOut(_Out):
    id: str
    family: str
    gateway: str
    site: str
    port: str | None
    poll_interval_s: float


class DeviceStatus(_Out):
    id: str
    last_seen: datetime | None
    produced: int | None = Field(description="readings the device produced since its agent started")
    dropped: int | None = Field(description="readings the edge buffer's disk quota dropped")
    completeness: float | None = Field(description="share of produced readings not dropped at the edge")


class GatewayStatus(_Out):
    id: str
    site: str
    online: bool
    last_seen: datetime | None
    buffer_depth: int | None
    oldest_unsent_s: float | None
    uplink_connected: bool | None
    devices: list[DeviceStatus]


class FleetOut(_Out):
    city: str
    online_within_s: float
    gateways: list[GatewayStatus]


class AqiOut(_Out):
    site: str
    kind: str
    device: str | None
    time: datetime
    aqi: int | None
    dominant: str | None
    sub_indices: dict[str, int]


class WqiOut(_Out):
    site: str
    device: str | None
    time: datetime
    wqi: int | None


AlertState = Literal["firing", "acknowledged", "resolved"]


class AlertOut(_Out):
    key: str
    rule: str
    severity: str | None
    city: str | None
    site: str | None
    gateway: str | None
    device: str | None
    state: AlertState
    value: float | None
    message: str | None
    changed_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class ConfigProblemOut(_Out):
    line: int | None
    key: str
    message: str
    suggestion: str | None


class ValidationOut(_Out):
    ok: bool
    problems: list[ConfigProblemOut]


class ConfigVersionOut(_Out):
    city: str
    version: str
    who: str
    at: datetime
    sha256: str
    bytes: int
    rollback_of: str | None


class ConfigVersionText(ConfigVersionOut):
    yaml: str


class PublishOut(_Out):
    version: ConfigVersionOut
    stored: bool = Field(description="false when this exact version was stored before")
    published_to: list[str]
    not_published: str | None = Field(description="why the gateways did not get it, if they did not")


class SnapshotOut(_Out):
    id: int
    time: datetime
    bytes: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=128)
    role: Role
    ttl_days: int = Field(default=90, ge=1, le=3650)


class TokenOut(_Out):
    id: str
    user: str
    role: Role
    created_at: datetime
    expires_at: datetime
    revoked: bool


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown this once, stored only as its hash")


class AuditOut(_Out):
    seq: int
    at: datetime
    who: str
    action: str
    target: str
    detail: dict[str, object]


class ErrorOut(BaseModel):
    detail: object
