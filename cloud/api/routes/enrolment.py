"""Technicians enrol a gateway on the broker: an account limited to the gateway's own topics,
its password shown once in the answer (stored only as a hash)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict

from cloud.api import audit
from cloud.api.deps import Caller, Svc, require
from cloud.api.models import ErrorOut
from cloud.api.roles import Permission

router = APIRouter(prefix="/api/v1", tags=["enrolment"])
Technician = Annotated[Caller, Depends(require(Permission.ENROL))]


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rotate: bool = False  # a new password for a gateway already enrolled


class EnrolOut(BaseModel):
    username: str
    password: str  # shown once; put it in the gateway's mqtt.password_file (mode 0600)


@router.post(
    "/cities/{city}/gateways/{gateway}/enrol",
    status_code=201,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
def enrol_gateway(city: str, gateway: str, body: EnrolIn, svc: Svc, caller: Technician) -> EnrolOut:
    from cloud.security.accounts import Registry, RegistryError  # the crypto stack only when enrolling

    known = svc.registry.get(city)
    if known is None or gateway not in {g.id for g in known.config.gateways}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no gateway {gateway!r} in city {city!r}")
    if svc.settings.security_dir is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "enrolment is off: start the API with --security-dir"
        )
    pid = None
    if svc.settings.broker_pid_file is not None and svc.settings.broker_pid_file.exists():
        pid = int(svc.settings.broker_pid_file.read_text().strip() or 0) or None
    try:
        credentials = Registry(svc.settings.security_dir / "accounts").enrol_gateway(
            city, gateway, rotate=body.rotate, broker_pid=pid
        )
    except RegistryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    with svc.state.transaction() as db:
        audit.record(db, caller.who, "gateway.enrol", f"{city}/{gateway}", {"rotate": body.rotate})
    return EnrolOut(username=credentials.username, password=credentials.password)
