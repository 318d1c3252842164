"""What an alert instance is and how its changes are told: the types the engine, store and sinks share."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from ioc.reading import FieldValue

# pending: the condition holds but not yet for the rule's `for`; it is never published.
State = Literal["pending", "firing", "acknowledged", "resolved"]
ACTIVE: Final[tuple[str, ...]] = ("firing", "acknowledged")


def alert_key(rule_id: str, tags: dict[str, str], event: str | None = None) -> str:
    """A stable, readable identity: ``rule|city=bmt,device=pm01`` (``|event`` for event rules)."""
    key = rule_id + "|" + ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return f"{key}|{event}" if event is not None else key


@dataclass(slots=True)
class Instance:
    """One alert's current state, as the store keeps it."""

    key: str
    rule: str
    severity: str
    title: dict[str, str]  # {vi, en}
    tags: dict[str, str]
    state: State
    # When this episode began: pending, since the condition first held; firing and acknowledged, since
    # it fired; resolved, since it resolved.
    since_ns: int
    changed_ns: int  # the last change of state
    value: FieldValue | None = None
    message: str = ""
    event: str | None = None
    acknowledged_by: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A published change: to firing, acknowledged or resolved."""

    key: str
    rule: str
    severity: str
    title: dict[str, str]
    tags: dict[str, str]
    state: State
    previous: State | None
    value: FieldValue | None
    since_ns: int  # when the alert started firing (for an event: the point's time)
    time_ns: int  # when this change happened
    message: str
    event: str | None = None
    by: str | None = None  # who acknowledged

    @property
    def firing(self) -> bool:
        return self.state in ACTIVE

    @property
    def city(self) -> str | None:
        return self.tags.get("city")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["firing"] = self.firing
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transition:
        data = {k: v for k, v in data.items() if k != "firing"}
        return cls(**data)

    @classmethod
    def of(
        cls, instance: Instance, previous: State | None, time_ns: int, since_ns: int, by: str | None = None
    ) -> Transition:
        return cls(
            key=instance.key,
            rule=instance.rule,
            severity=instance.severity,
            title=dict(instance.title),
            tags=dict(instance.tags),
            state=instance.state,
            previous=previous,
            value=instance.value,
            since_ns=since_ns,
            time_ns=time_ns,
            message=instance.message,
            event=instance.event,
            by=by,
        )
