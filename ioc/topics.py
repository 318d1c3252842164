"""The MQTT topic scheme: ``ioc/v1/{city}/{gateway}/{kind}`` (DESIGN.md, "MQTT topics")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

PREFIX: Final = "ioc/v1"
TopicKind = Literal["up", "state", "config", "config/ack", "events"]
KINDS: Final[tuple[str, ...]] = ("up", "state", "config", "config/ack", "events")

# Ingest workers split the gateways' batches between them through one MQTT 5 shared subscription.
INGEST_GROUP: Final = "ingest"


def ingest_subscription(city: str = "+") -> str:
    """The MQTT 5 shared subscription ingest workers split the gateways' batches through."""
    return f"$share/{INGEST_GROUP}/{PREFIX}/{city}/+/up"


# Topics the cloud publishes, outside every gateway's subtree (gateways may not write there).
ALERTS_PREFIX: Final = "ioc/alerts/v1"  # ioc/alerts/v1/{city}/{rule}: alert state changes, retained
DEAD_LETTER_PREFIX: Final = "ioc/deadletter/v1"  # ioc/deadletter/v1/{city}/{gateway}: refused payloads


def alerts_topic(city: str, rule: str) -> str:
    return f"{ALERTS_PREFIX}/{city}/{rule}"


def dead_letter_topic(city: str, gateway: str) -> str:
    return f"{DEAD_LETTER_PREFIX}/{city}/{gateway}"


# Ids become topic levels and InfluxDB tag values: keep them to characters safe in both.
ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Topic:
    city: str
    gateway: str
    kind: str

    def __str__(self) -> str:
        return f"{PREFIX}/{self.city}/{self.gateway}/{self.kind}"


def topic(city: str, gateway: str, kind: TopicKind) -> str:
    for name, value in (("city", city), ("gateway", gateway)):
        if not ID_PATTERN.match(value):
            raise ValueError(f"{name} id {value!r} must match {ID_PATTERN.pattern}")
    return str(Topic(city, gateway, kind))


def parse(name: str) -> Topic | None:
    """The parts of a topic of ours, or None for anything else."""
    parts = name.split("/", 4)
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX or parts[4] not in KINDS:
        return None
    if not (ID_PATTERN.match(parts[2]) and ID_PATTERN.match(parts[3])):
        return None
    return Topic(parts[2], parts[3], parts[4])
