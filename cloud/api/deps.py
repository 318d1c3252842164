"""What routes depend on: the app's services, the caller's token and role, the city in the path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cloud.api import tokens
from cloud.api.publisher import ConfigPublisher
from cloud.api.ratelimit import RateLimiter, retry_after
from cloud.api.registry import City, Registry
from cloud.api.roles import Permission, Role, allowed
from cloud.api.settings import ApiSettings
from cloud.api.snapshots import SnapshotStore
from cloud.api.state import State
from cloud.influx_query import InfluxQuery
from ioc.topics import ID_PATTERN


@dataclass
class Services:
    settings: ApiSettings
    state: State
    registry: Registry
    influx: InfluxQuery
    publisher: ConfigPublisher | None
    limiter: RateLimiter
    snapshots: SnapshotStore


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]


@dataclass(frozen=True)
class Caller:
    user: str
    role: Role
    token_id: str

    @property
    def who(self) -> str:
        return f"{self.user} (token {self.token_id})"


_bearer = HTTPBearer(auto_error=False, description="An API token from `ioc cloud token create`.")


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def require(permission: Permission) -> Callable[..., Caller]:
    """A dependency admitting callers whose role has ``permission``: 401 without a valid token,
    429 over the token's rate, 403 for a role without the permission."""

    def dependency(
        svc: Svc, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Caller:
        if credentials is None:
            raise _unauthorized("missing token: send 'Authorization: Bearer <token>'")
        info = tokens.lookup(svc.state, credentials.credentials)
        reason = tokens.problem(info)
        if info is None or reason is not None:
            raise _unauthorized(reason or "unknown token")
        wait = svc.limiter.take(info.id)
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"more than {svc.settings.rate_per_minute} requests per minute with this token",
                headers={"Retry-After": retry_after(wait)},
            )
        if not allowed(info.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {info.role} may not {permission}")
        return Caller(info.user, info.role, info.id)

    dependency.permission = permission  # type: ignore[attr-defined]  # the role test reads it
    return dependency


def city_in_path(svc: Svc, city: Annotated[str, Path(description="City id, e.g. bmt")]) -> City:
    found = svc.registry.get(city)
    if found is None:
        known = ", ".join(sorted(svc.registry.cities))
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no city {city!r}; this API serves {known}")
    return found


def camera_in_path(svc: Svc, device: Annotated[str, Path(description="Camera device id")]) -> str:
    if not ID_PATTERN.match(device) or svc.registry.find_device(device) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no device {device!r} in the city configs")
    return device


CityDep = Annotated[City, Depends(city_in_path)]
CameraDep = Annotated[str, Depends(camera_in_path)]
