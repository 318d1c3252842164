"""The account registry: which gateways and cloud services may connect to the broker, and the
Mosquitto password and ACL files regenerated from it on every change.

SQLite rather than a YAML file: the API (a technician enrolling through it) and the CLI on the
server may change the registry at the same moment, and a transaction makes each change whole;
the registry also holds password hashes, which do not belong in a file people edit or commit.
Passwords are shown once, at enrolment, and stored only as Mosquitto hashes.
"""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from cloud.security.mosquitto_files import SERVICE_RIGHTS, Account, acl_file, mosquitto_hash, password_file
from ioc import topics
from ioc.secrets import check_private, write_private

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    city TEXT,
    gateway TEXT,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
)
"""


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str  # shown once; the registry keeps only its hash

    def __repr__(self) -> str:  # so a log line or traceback never prints the password
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def gateway_username(city: str, gateway: str) -> str:
    # A dot is not allowed in ids (topics.ID_PATTERN), so this name belongs to one (city, gateway).
    return f"gw.{city}.{gateway}"


def reload_broker(pid: int) -> None:
    """Mosquitto rereads its password and ACL files on SIGHUP: revocation without a restart."""
    os.kill(pid, signal.SIGHUP)


class Registry:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "accounts.sqlite"
        self.password_file = self.directory / "mosquitto.passwd"
        self.acl_file = self.directory / "mosquitto.acl"
        new = not self.path.exists()
        if new:
            write_private(self.path, b"")
        check_private(self.path)
        with closing(self._connect()) as db, db:
            db.execute(_SCHEMA)
        if new or not self.password_file.exists():
            self.write_broker_files()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level="IMMEDIATE")

    # --- changes ---------------------------------------------------------------------------
    def enrol_gateway(
        self, city: str, gateway: str, rotate: bool = False, broker_pid: int | None = None
    ) -> Credentials:
        """New credentials for a gateway. An enrolled, unrevoked gateway keeps its password unless
        ``rotate`` is set, so a repeated command cannot lock a live gateway out by accident."""
        for name, value in (("city", city), ("gateway", gateway)):
            if not topics.ID_PATTERN.match(value):
                raise RegistryError(f"{name} id {value!r} must match {topics.ID_PATTERN.pattern}")
        return self._issue(gateway_username(city, gateway), "gateway", city, gateway, rotate, broker_pid)

    def enrol_service(
        self, role: str, name: str | None = None, rotate: bool = False, broker_pid: int | None = None
    ) -> Credentials:
        """An account for a cloud service (``ingest``, ``api``, ``alerts``) with that role's rights;
        ``name`` tells several workers of one role apart (``ingest-2``)."""
        if role not in SERVICE_RIGHTS:
            raise RegistryError(f"role {role!r} is not one of {', '.join(SERVICE_RIGHTS)}")
        username = name or role
        if not topics.ID_PATTERN.match(username):
            raise RegistryError(f"service name {username!r} must match {topics.ID_PATTERN.pattern}")
        return self._issue(username, role, None, None, rotate, broker_pid)

    def _issue(
        self, username: str, role: str, city: str | None, gateway: str | None, rotate: bool, pid: int | None
    ) -> Credentials:
        password = secrets.token_urlsafe(24)
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT role, revoked_at FROM accounts WHERE username = ?", (username,)
            ).fetchone()
            if row is not None and row[0] != role:
                raise RegistryError(f"{username!r} is already a {row[0]} account")
            if row is not None and row[1] is None and not rotate:
                raise RegistryError(f"{username!r} is already enrolled; rotate its password to replace it")
            db.execute(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (username, role, city, gateway, mosquitto_hash(password), time.time()),
            )
        self._publish(pid)
        return Credentials(username, password)

    def revoke(self, username: str, broker_pid: int | None = None) -> None:
        with closing(self._connect()) as db, db:
            changed = db.execute(
                "UPDATE accounts SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
                (time.time(), username),
            ).rowcount
        if not changed:
            raise RegistryError(f"no active account {username!r}")
        self._publish(broker_pid)

    def revoke_gateway(self, city: str, gateway: str, broker_pid: int | None = None) -> None:
        self.revoke(gateway_username(city, gateway), broker_pid)

    # --- reading and the broker's files ----------------------------------------------------
    def accounts(self, include_revoked: bool = False) -> list[Account]:
        query = "SELECT username, role, password_hash, city, gateway FROM accounts"
        if not include_revoked:
            query += " WHERE revoked_at IS NULL"
        with closing(self._connect()) as db:
            return [Account(*row) for row in db.execute(query + " ORDER BY username")]

    def write_broker_files(self) -> None:
        active = self.accounts()
        write_private(self.password_file, password_file(active).encode())
        write_private(self.acl_file, acl_file(active).encode())

    def _publish(self, broker_pid: int | None) -> None:
        self.write_broker_files()
        if broker_pid is not None:
            reload_broker(broker_pid)
