"""API tokens: random secrets handed out once, stored only as their SHA-256.

A plain hash is enough here, unlike for passwords: a token is 256 random bits, so nobody can
guess it from its hash, and a slow password hash (bcrypt, argon2) would only cost time on every
request. Lookups are by hash, so the secret itself is never compared or kept.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from cloud.api import audit
from cloud.api.roles import Role
from cloud.api.state import State

PREFIX = "ioc_"  # recognisable in a leaked config or log, for people and secret scanners
DAY_NS = 86_400 * 10**9
MAX_TTL_DAYS = 3650


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    role: Role
    created_ns: int
    expires_ns: int
    revoked: bool


class TokenError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(r: sqlite3.Row) -> TokenInfo:
    return TokenInfo(
        r["id"], r["user"], Role(r["role"]), r["created_ns"], r["expires_ns"], bool(r["revoked"])
    )


def create_token(state: State, user: str, role: str, ttl_days: int, who: str = "cli") -> str:
    """A new token for ``user`` with ``role``, valid ``ttl_days``; returned once, never stored."""
    return issue(state, user, role, ttl_days, who)[0]


def issue(state: State, user: str, role: str, ttl_days: int, who: str) -> tuple[str, TokenInfo]:
    """create_token, with the stored record (for the API's answer)."""
    if role not in set(Role):
        raise TokenError(f"role {role!r} is not one of {', '.join(Role)}")
    if not 1 <= ttl_days <= MAX_TTL_DAYS:
        raise TokenError(f"ttl_days must be 1–{MAX_TTL_DAYS}, not {ttl_days}")
    user = user.strip()
    if not user or len(user) > 128:
        raise TokenError("user must be 1–128 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    now = time.time_ns()
    info = TokenInfo(secrets.token_hex(6), user, Role(role), now, now + ttl_days * DAY_NS, False)
    with state.transaction() as db:
        db.execute(
            "INSERT INTO tokens (id, hash, user, role, created_ns, expires_ns) VALUES (?, ?, ?, ?, ?, ?)",
            (info.id, _hash(token), user, role, now, info.expires_ns),
        )
        audit.record(db, who, "token.create", info.id, {"user": user, "role": role, "ttl_days": ttl_days})
    return token, info


def lookup(state: State, token: str) -> TokenInfo | None:
    """The record of a presented token (valid or not), or None for a token never issued."""
    rows = state.rows("SELECT * FROM tokens WHERE hash = ?", (_hash(token),))
    return _info(rows[0]) if rows else None


def problem(info: TokenInfo | None, now_ns: int | None = None) -> str | None:
    """Why a token may not be used, or None when it may."""
    if info is None:
        return "unknown token"
    if info.revoked:
        return "token revoked"
    if (now_ns or time.time_ns()) >= info.expires_ns:
        return "token expired"
    return None


def list_tokens(state: State) -> list[TokenInfo]:
    return [_info(r) for r in state.rows("SELECT * FROM tokens ORDER BY created_ns")]


def revoke_token(state: State, token_id: str, who: str = "cli") -> bool:
    """False when no such token; revoking twice is harmless."""
    with state.transaction() as db:
        found = db.execute("UPDATE tokens SET revoked = 1 WHERE id = ?", (token_id,)).rowcount > 0
        if found:
            audit.record(db, who, "token.revoke", token_id)
    return found
