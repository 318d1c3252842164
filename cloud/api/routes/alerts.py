"""Alerts from the alert engine's store, and acknowledgements into it."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from cloud.alerts.store import AlertStore
from cloud.api import alerts
from cloud.api.deps import Caller, Svc, require
from cloud.api.models import AlertState, ErrorOut
from cloud.api.roles import Permission
from ioc.topics import ID_PATTERN

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
_opening = threading.Lock()
UNAVAILABLE = {503: {"model": ErrorOut, "description": "the alert engine's state file is missing"}}


def alert_store(request: Request, svc: Svc) -> AlertStore:
    """The engine's store, opened at first use and kept on the app: the engine may start after the
    API, and a missing file is a 503 until it does rather than a refusal to start."""
    store: AlertStore | None = getattr(request.app.state, "alert_store", None)
    if store is None:
        with _opening:
            store = getattr(request.app.state, "alert_store", None)
            if store is None:
                try:
                    store = alerts.open_store(svc.settings.alerts_state_path)
                except alerts.AlertsUnavailable as exc:
                    raise HTTPException(
                        status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "30"}
                    ) from None
                request.app.state.alert_store = store
    return store


Store = Annotated[AlertStore, Depends(alert_store)]


@router.get("", dependencies=[Depends(require(Permission.READ))], responses=UNAVAILABLE)
def list_alerts(
    store: Store,
    city: Annotated[
        str | None, Query(description="Only this city's alerts", pattern=ID_PATTERN.pattern)
    ] = None,
    state: Annotated[AlertState | None, Query(description="Only alerts in this state")] = None,
) -> list[alerts.AlertOut]:
    """Firing and acknowledged alerts, and those resolved in the last 24 hours: firing first, then
    acknowledged, then resolved; the newest change first within each."""
    return alerts.list_alerts(store, city, state)


# `{key:path}`: a key's tag values come from InfluxDB and may hold '/', which arrives decoded.
@router.post(
    "/{key:path}/acknowledge",
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, **UNAVAILABLE},
)
def acknowledge(
    key: Annotated[
        str,
        Path(
            description="The engine's alert key, URL-encoded: rule|city=bmt,device=pm01",
            max_length=1024,
        ),
    ],
    caller: Annotated[Caller, Depends(require(Permission.ACKNOWLEDGE))],
    store: Store,
    svc: Svc,
) -> alerts.AlertOut:
    """Acknowledge a firing alert in the engine's store: it stays acknowledged until it resolves,
    and the engine stops notifying about it. 409 when it is not firing (already acknowledged,
    resolved, or not yet firing)."""
    try:
        return alerts.acknowledge(store, svc.state, key, caller.who)
    except alerts.AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except alerts.AlertNotFiring as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
