"""Device ``options:`` of the two signal-controller families, validated by the edge (pydantic v2)."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from firmware_bridge.ntcip.oids import ScalarName

_OID = re.compile(r"^\d+(\.\d+)+$")


def _check_conflicts(conflicts: list[tuple[int, int]], phases: list[int] | None) -> None:
    for a, b in conflicts:
        if a == b:
            raise ValueError(f"conflicts: phase {a} cannot conflict with itself")
        for p in (a, b):
            if not 1 <= p <= 255:
                raise ValueError(f"conflicts: phase {p} is outside 1..255")
            if phases is not None and p not in phases:
                raise ValueError(f"conflicts: phase {p} is not in phases {phases}")


class NtcipOptions(BaseModel):
    """``ntcip1202``: which phases exist, which pairs must never show right of way together, SNMP settings."""

    model_config = ConfigDict(extra="forbid")

    community: str = "public"
    phases: list[int] = Field(default_factory=lambda: list(range(1, 9)), min_length=1)
    conflicts: list[tuple[int, int]] = Field(default_factory=list)
    snmp_version: Literal["1", "2c"] = "2c"
    timeout_s: float = Field(default=1.0, gt=0, le=30)
    retries: int = Field(default=1, ge=0, le=10)
    # Scalar OIDs for controllers that keep them elsewhere; null leaves that object out of the poll.
    oids: dict[ScalarName, str | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.phases)) != len(self.phases):
            raise ValueError(f"phases has duplicates: {self.phases}")
        if not all(1 <= p <= 255 for p in self.phases):
            raise ValueError(f"phases must be 1..255: {self.phases}")
        _check_conflicts(self.conflicts, self.phases)
        for name, oid in self.oids.items():
            if oid is not None and not _OID.match(oid):
                raise ValueError(f"oids.{name}: {oid!r} is not a dotted numeric OID")
        return self


def check_topic(topic: str) -> str:
    if not topic or any(c in topic for c in "#+"):
        raise ValueError(f"topic {topic!r}: one controller's status topic, without wildcards")
    return topic


class TscMqttOptions(BaseModel):
    """``tsc-mqtt``: the broker the controller publishes to and its status topic. A device ``port:``
    of the form ``host:port/topic`` (or ``host:port``) takes precedence over host/port(/topic)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    topic: str | None = None  # None: the topic comes from the device's port:
    conflicts: list[tuple[int, int]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.topic is not None:
            check_topic(self.topic)
        _check_conflicts(self.conflicts, None)
        return self
