"""Camera snapshots: upload a JPEG, list, download the latest or one by id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from cloud.api.deps import CameraDep, Svc, require
from cloud.api.models import ErrorOut, SnapshotOut
from cloud.api.roles import Permission
from cloud.api.snapshots import NotJpeg

router = APIRouter(prefix="/api/v1/cameras/{device}/snapshots", tags=["snapshots"])
Reader = Depends(require(Permission.READ))
_JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
    404: {"model": ErrorOut},
}


@router.put(
    "",
    status_code=201,
    dependencies=[Depends(require(Permission.UPLOAD_SNAPSHOTS))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut}},
)
async def upload(request: Request, device: CameraDep, svc: Svc) -> SnapshotOut:
    """A JPEG (checked by its start and end markers), at most ``max_snapshot_bytes``; the oldest
    beyond ``snapshots_per_camera`` are deleted."""
    # The body limit middleware stops the stream past the route's limit, before it is all read.
    data = await request.body()
    try:
        return await run_in_threadpool(svc.snapshots.save, device, data)
    except NotJpeg as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None


@router.get("", dependencies=[Reader])
def list_snapshots(device: CameraDep, svc: Svc) -> list[SnapshotOut]:
    """Newest first."""
    return svc.snapshots.list(device)


def _file(svc: Svc, device: str, snap_id: int | None) -> FileResponse:
    path = svc.snapshots.path(device, snap_id)
    if path is None:
        what = "no snapshot yet" if snap_id is None else f"no snapshot {snap_id}"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{what} of {device}")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})


@router.get("/latest", dependencies=[Reader], response_class=FileResponse, responses=_JPEG)
def latest(device: CameraDep, svc: Svc) -> FileResponse:
    return _file(svc, device, None)


@router.get("/{snapshot_id}", dependencies=[Reader], response_class=FileResponse, responses=_JPEG)
def one(
    device: CameraDep,
    snapshot_id: Annotated[int, Path(ge=0, description="a snapshot id from the list")],
    svc: Svc,
) -> FileResponse:
    return _file(svc, device, snapshot_id)
