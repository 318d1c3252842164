"""Admin: API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from cloud.api import audit, tokens
from cloud.api.deps import Caller, Svc, require
from cloud.api.models import AuditOut, ErrorOut, TokenCreate, TokenCreated, TokenOut, from_ns
from cloud.api.roles import Permission

router = APIRouter(prefix="/api/v1", tags=["admin"])
Admin = Annotated[Caller, Depends(require(Permission.ADMIN))]


def _token(info: tokens.TokenInfo) -> TokenOut:
    return TokenOut(
        id=info.id,
        user=info.user,
        role=info.role,
        created_at=from_ns(info.created_ns),
        expires_at=from_ns(info.expires_ns),
        revoked=info.revoked,
    )


@router.get("/tokens")
def list_tokens(svc: Svc, _admin: Admin) -> list[TokenOut]:
    return [_token(t) for t in tokens.list_tokens(svc.state)]


@router.post("/tokens", status_code=201)
def create_token(body: TokenCreate, svc: Svc, admin: Admin) -> TokenCreated:
    """The token is in this answer only; it is stored as its hash."""
    try:
        secret, info = tokens.issue(svc.state, body.user, body.role, body.ttl_days, admin.who)
    except tokens.TokenError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return TokenCreated(**_token(info).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, responses={404: {"model": ErrorOut}})
def revoke_token(token_id: str, svc: Svc, admin: Admin) -> None:
    if not tokens.revoke_token(svc.state, token_id, admin.who):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token {token_id!r}")


@router.get("/audit")
def list_audit(
    svc: Svc,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[
        int | None, Query(ge=1, le=2**62, description="page: entries older than this seq")
    ] = None,
) -> list[AuditOut]:
    """Config changes, acknowledgements and token changes, newest first."""
    return [
        AuditOut(seq=e.seq, at=from_ns(e.at_ns), who=e.who, action=e.action, target=e.target, detail=e.detail)
        for e in audit.entries(svc.state, limit, before_seq)
    ]
