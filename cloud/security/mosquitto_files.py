"""Mosquitto's password-file and ACL-file formats, rendered from the account registry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from ioc import topics

# Mosquitto 2.0's `mosquitto_passwd`: PBKDF2-SHA512, 101 iterations, 12-byte salt, written as
# `$7$iterations$base64(salt)$base64(hash)`. Written here by hand because no library writes this
# format, and so the API server can enrol a gateway without the mosquitto package installed.
_ITERATIONS = 101
_SALT_BYTES = 12


def mosquitto_hash(password: str, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_hash(password: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        computed = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(computed).decode(), digest)


@dataclass(frozen=True)
class Account:
    username: str
    role: str  # gateway | ingest | api | alerts
    password_hash: str
    city: str | None = None
    gateway: str | None = None


# What each cloud service may do, and nothing more (DESIGN.md "MQTT topics").
SERVICE_RIGHTS: dict[str, tuple[tuple[str, str], ...]] = {
    # The shared subscription is checked against the topic without its `$share/ingest/` prefix.
    "ingest": (
        ("read", f"{topics.PREFIX}/+/+/up"),
        ("write", f"{topics.DEAD_LETTER_PREFIX}/#"),
    ),
    "api": (
        ("write", f"{topics.PREFIX}/+/+/config"),
        ("read", f"{topics.PREFIX}/+/+/config/ack"),
    ),
    "alerts": (("write", f"{topics.ALERTS_PREFIX}/#"),),
}


def gateway_rights(city: str, gateway: str) -> tuple[tuple[str, str], ...]:
    base = f"{topics.PREFIX}/{city}/{gateway}"
    return (
        ("write", f"{base}/up"),
        ("write", f"{base}/state"),
        ("write", f"{base}/events"),
        ("write", f"{base}/config/ack"),
        ("read", f"{base}/config"),
    )


def rights(account: Account) -> tuple[tuple[str, str], ...]:
    if account.role == "gateway":
        assert account.city and account.gateway
        return gateway_rights(account.city, account.gateway)
    return SERVICE_RIGHTS[account.role]


def password_file(accounts: Iterable[Account]) -> str:
    return "".join(f"{a.username}:{a.password_hash}\n" for a in accounts)


def acl_file(accounts: Iterable[Account]) -> str:
    # Explicit topics per user rather than `pattern ... %u` lines: a user's rights can then be read
    # off the file, and an account absent from it has no rights at all (Mosquitto denies by default).
    out = ["# Generated from the account registry by cloud.security; edits here are overwritten.\n"]
    for account in accounts:
        out.append(f"\nuser {account.username}\n")
        out.extend(f"topic {access} {topic}\n" for access, topic in rights(account))
    return "".join(out)
