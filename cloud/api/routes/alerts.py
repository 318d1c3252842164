"""Alerts: the latest state of each, and acknowledgements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from cloud.api import alerts
from cloud.api.deps import Caller, Svc, require
from cloud.api.models import AlertOut, AlertState, ErrorOut
from cloud.api.roles import Permission
from ioc.topics import ID_PATTERN

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("", dependencies=[Depends(require(Permission.READ))])
def list_alerts(
    svc: Svc,
    city: Annotated[
        str | None, Query(description="Only this city's alerts", pattern=ID_PATTERN.pattern)
    ] = None,
    state: Annotated[AlertState | None, Query(description="Only alerts in this state")] = None,
) -> list[AlertOut]:
    """Firing first, then acknowledged, then resolved; the newest change first within each."""
    return alerts.list_alerts(svc.influx, svc.state, city, state)


@router.post(
    "/{key}/acknowledge",
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def acknowledge(
    key: str, svc: Svc, caller: Annotated[Caller, Depends(require(Permission.ACKNOWLEDGE))]
) -> AlertOut:
    """Record who acknowledged a firing alert; it holds until the alert resolves."""
    try:
        return alerts.acknowledge(svc.influx, svc.state, key, caller.who)
    except alerts.AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except alerts.AlertNotFiring as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
