"""City config versions: validate, store, publish retained to the gateways, roll back.

Versions are kept in the API's state (text, who, when); the registry still serves the files in
configs/, which stay the reviewed source: a version that proves itself belongs in git.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time

from cloud.api import audit
from cloud.api.models import ConfigProblemOut, ConfigVersionOut, ConfigVersionText, PublishOut, from_ns
from cloud.api.publisher import ConfigPublisher
from cloud.api.state import State
from firmware_bridge import registry as families
from ioc import config_message
from ioc.config import CityConfig, ConfigError, parse_city
from ioc.config.yaml_lines import line_of, parse_yaml

# The agents accept 1–64 of [A-Za-z0-9_.:-]; 48 here leaves room for "-rollback-<n>".
VERSION = re.compile(r"^[A-Za-z0-9_.:-]{1,48}$")
# Config changes are rare and must not interleave (check, publish, store): one at a time.
_changes = threading.Lock()


class BadVersion(ValueError):
    pass


class InvalidConfig(ValueError):
    def __init__(self, problems: list[ConfigProblemOut]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class VersionConflict(ValueError):
    pass


class VersionNotFound(LookupError):
    pass


def check(text: str, city: str) -> tuple[CityConfig | None, list[ConfigProblemOut]]:
    """The parsed config, or every problem with its line, key, message and suggestion."""
    try:
        config_message.encode("x" * 64, text)  # the longest version name: will it fit a gateway?
    except config_message.ConfigMessageError as exc:
        return None, [ConfigProblemOut(line=None, key="", message=str(exc), suggestion=None)]
    try:
        config = parse_city(text, f"{city} config", families.config_specs())
    except ConfigError as exc:
        return None, [
            ConfigProblemOut(line=p.line, key=p.path, message=p.message, suggestion=p.suggestion)
            for p in exc.problems
        ]
    if config.city.id != city:
        line = line_of(parse_yaml(text).lines, ("city", "id"))
        message = f"this is city {config.city.id!r}'s config, not {city!r}'s"
        return None, [ConfigProblemOut(line=line, key="city.id", message=message, suggestion=city)]
    return config, []


def _out(row: sqlite3.Row) -> ConfigVersionOut:
    return ConfigVersionOut(
        city=row["city"],
        version=row["version"],
        who=row["who"],
        at=from_ns(row["at_ns"]),
        sha256=row["sha256"],
        bytes=len(row["yaml"].encode()),
        rollback_of=row["rollback_of"],
    )


def versions(state: State, city: str) -> list[ConfigVersionOut]:
    """Newest first."""
    return [
        _out(r) for r in state.rows("SELECT * FROM config_versions WHERE city = ? ORDER BY seq DESC", (city,))
    ]


def get_version(state: State, city: str, version: str) -> ConfigVersionText | None:
    rows = state.rows("SELECT * FROM config_versions WHERE city = ? AND version = ?", (city, version))
    return ConfigVersionText(**_out(rows[0]).model_dump(), yaml=rows[0]["yaml"]) if rows else None


def _publish_and_store(
    state: State,
    publisher: ConfigPublisher | None,
    config: CityConfig,
    version: str,
    text: str,
    who: str,
    rollback_of: str | None,
) -> PublishOut:
    city = config.city.id
    gateways = [g.id for g in config.gateways]
    if publisher is None:
        published, reason = [], "no MQTT broker configured for the API; stored only"
    else:
        published, reason = publisher.publish(city, gateways, version, text), None  # raises PublishError
    digest = hashlib.sha256(text.encode()).hexdigest()
    with state.transaction() as db:
        db.execute(
            "INSERT INTO config_versions (city, version, yaml, sha256, who, at_ns, rollback_of)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (city, version, text, digest, who, time.time_ns(), rollback_of),
        )
        action = "config.rollback" if rollback_of else "config.put"
        detail: dict[str, object] = {"sha256": digest, "published_to": published}
        if rollback_of:
            detail["republished"] = rollback_of
        audit.record(db, who, action, f"{city}/{version}", detail)
    stored = get_version(state, city, version)
    assert stored is not None
    return PublishOut(version=stored, stored=True, published_to=published, not_published=reason)


def put(
    state: State, publisher: ConfigPublisher | None, city: str, version: str, text: str, who: str
) -> PublishOut:
    if not VERSION.match(version):
        raise BadVersion(f"version {version!r}: use 1–48 of A-Z a-z 0-9 _ . : - (e.g. 2026-11-26.1)")
    with _changes:
        existing = get_version(state, city, version)
        if existing is not None:
            if existing.sha256 != hashlib.sha256(text.encode()).hexdigest():
                raise VersionConflict(
                    f"version {version!r} of {city} exists with other content; name a new one"
                )
            meta = ConfigVersionOut(**existing.model_dump(exclude={"yaml"}))
            return PublishOut(
                version=meta,
                stored=False,
                published_to=[],
                not_published="this exact version was stored before",
            )
        config, problems = check(text, city)
        if config is None:
            raise InvalidConfig(problems)
        return _publish_and_store(state, publisher, config, version, text, who, None)


def rollback(
    state: State, publisher: ConfigPublisher | None, city: str, version: str, who: str
) -> PublishOut:
    """Publish a stored version again under ``<original>-rollback-<n>``: the agents ignore a
    version they already have and refuse one they rolled back themselves, so it needs a new name."""
    with _changes:
        old = get_version(state, city, version)
        if old is None:
            raise VersionNotFound(f"no version {version!r} of {city}")
        base = old.rollback_of or old.version
        taken = {v.version for v in versions(state, city)}
        n = 1
        while f"{base}-rollback-{n}" in taken:
            n += 1
        config, problems = check(old.yaml, city)  # device families may have changed since
        if config is None:
            raise InvalidConfig(problems)
        return _publish_and_store(state, publisher, config, f"{base}-rollback-{n}", old.yaml, who, base)
