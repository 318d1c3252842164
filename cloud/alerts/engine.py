"""Rules + what InfluxDB holds at ``now_ns`` + the stored states → the alert changes to publish.

- Hysteresis: an alert fires when the condition is met (e.g. above 50) and resolves only at
  ``clear_at`` (e.g. 45); a value in between keeps whatever state the alert has, so it cannot flap.
- ``for``: the condition must be met at every evaluation for that long before the alert fires.
- De-duplication: a firing alert never fires again; an event (one weighing) fires once for ever.
- A group that vanishes from a value rule's window resolves (a count rule reads it as 0); a
  no_data rule keeps a silent group's state, since silence is what it watches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cloud.alerts.influxql import NS, Observation, observe
from cloud.alerts.messages import describe
from cloud.alerts.model import Rule
from cloud.alerts.state import ACTIVE, Instance, State, Transition, alert_key
from cloud.alerts.store import AlertStore
from cloud.influx_query import InfluxQuery, QueryError
from ioc.reading import FieldValue

log = logging.getLogger(__name__)


def evaluate(rules: Sequence[Rule], query: InfluxQuery, now_ns: int, store: AlertStore) -> list[Transition]:
    """Run every rule at now_ns, commit the new states and their changes to ``store`` (its outbox),
    and return the changes. A rule whose query fails is skipped (logged) and keeps its states."""
    out: list[Transition] = []
    for rule in rules:
        try:
            observations = observe(rule, query, now_ns)
        except QueryError as exc:
            log.warning("alert rule %s skipped: %s", rule.id, exc)
            continue
        step = _Step(rule, store.instances(rule.id), now_ns, len(out))
        if rule.event_key is not None:
            step.events(observations)
        elif rule.no_data is not None:
            step.silence(observations)
        else:
            step.values(observations)
        store.commit(step.upserts, step.deletes, step.transitions)
        out.extend(step.transitions)
    return out


def matches(rule: Rule, value: FieldValue | None) -> bool:
    if value is None:
        return False
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if rule.above is not None:
        return number and value > rule.above  # type: ignore[operator]
    if rule.below is not None:
        return number and value < rule.below  # type: ignore[operator]
    if rule.equals is not None:
        return _same(value, rule.equals)
    if rule.not_equals is not None:
        return not _same(value, rule.not_equals)
    return any(_same(value, v) for v in rule.in_ or ())


def clears(rule: Rule, value: FieldValue | None) -> bool:
    """Whether a firing alert resolves at this value: at clear_at or beyond for above/below
    (hysteresis; clear_at defaults to the threshold itself)."""
    if value is None:
        return True
    if not isinstance(value, int | float) or isinstance(value, bool):
        return not matches(rule, value)
    if rule.above is not None:
        return value <= (rule.above if rule.clear_at is None else rule.clear_at)
    if rule.below is not None:
        return value >= (rule.below if rule.clear_at is None else rule.clear_at)
    return not matches(rule, value)


def _same(a: FieldValue, b: FieldValue) -> bool:
    # True == 1 in Python; a bool field and a number are never the same value here.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


class _Step:
    """One rule's evaluation: the store rows and changes it produces."""

    def __init__(self, rule: Rule, known: dict[str, Instance], now_ns: int, offset: int) -> None:
        self.rule, self.known, self.now = rule, known, now_ns
        # Changes get distinct timestamps (now + n ns): two changes with the same tags at the same
        # instant would overwrite each other's point in the alerts measurement.
        self.offset = offset
        self.upserts: list[Instance] = []
        self.deletes: list[str] = []
        self.transitions: list[Transition] = []

    def values(self, observations: list[Observation]) -> None:
        seen = {alert_key(self.rule.id, o.tags): o for o in observations}
        live = {k for k, i in self.known.items() if i.state != "resolved"}
        for key in sorted(seen.keys() | live):
            obs, instance = seen.get(key), self.known.get(key)
            value: FieldValue | None = obs.value if obs else (0 if self.rule.aggregate == "count" else None)
            tags = obs.tags if obs else instance.tags  # type: ignore[union-attr]
            self._decide(key, tags, value, instance, matches(self.rule, value), clears(self.rule, value))

    def silence(self, observations: list[Observation]) -> None:
        assert self.rule.no_data is not None
        for obs in sorted(observations, key=lambda o: alert_key(self.rule.id, o.tags)):
            key = alert_key(self.rule.id, obs.tags)
            age_s = round((self.now - obs.time_ns) / NS, 3)
            silent = age_s > self.rule.no_data
            self._decide(key, obs.tags, age_s, self.known.get(key), silent, not silent)

    def events(self, observations: list[Observation]) -> None:
        seen = {alert_key(self.rule.id, o.tags, o.event): o for o in observations}
        for key in sorted(seen):
            if key not in self.known:  # already fired once (in any state): never again
                obs = seen[key]
                self._change(
                    self._new(key, obs.tags, obs.value, obs.event), "firing", None, since=obs.time_ns
                )
        for key, instance in sorted(self.known.items()):
            if instance.state in ACTIVE and key not in seen:  # the point left the window
                self._change(instance, "resolved", instance.state, value=instance.value)

    def _decide(
        self, key: str, tags: dict[str, str], value: FieldValue | None, instance: Instance | None,
        met: bool, cleared: bool,
    ) -> None:  # fmt: skip
        state = instance.state if instance else None
        if state in ACTIVE:
            assert instance is not None
            if cleared:
                self._change(instance, "resolved", state, value=value)
            elif value != instance.value:
                instance.value = value
                instance.message = describe(self.rule, tags, value, instance.event)
                self.upserts.append(instance)
            return
        if not met:
            if state == "pending":
                self.deletes.append(key)
            return
        pending = instance if state == "pending" else None
        if pending is None and self.rule.for_ > 0:
            self.upserts.append(self._new(key, tags, value, None, state="pending"))
        elif pending is None or self.now - pending.since_ns >= self.rule.for_ * NS:
            # pending is never published, so a change never names it as the previous state.
            self._change(self._new(key, tags, value, None), "firing", None if pending else state)

    def _new(
        self,
        key: str,
        tags: dict[str, str],
        value: FieldValue | None,
        event: str | None,
        state: State = "firing",
    ) -> Instance:
        rule = self.rule
        title = {"vi": rule.title.vi, "en": rule.title.en}
        message = describe(rule, tags, value, event)
        return Instance(
            key, rule.id, rule.severity, title, tags, state, self.now, self.now, value, message, event
        )

    def _change(
        self, instance: Instance, state: State, previous: State | None,
        since: int | None = None, value: FieldValue | None = None,
    ) -> None:  # fmt: skip
        time_ns = self.now + self.offset + len(self.transitions)
        if state == "resolved":
            instance.value = value
            instance.message = describe(self.rule, instance.tags, value, instance.event, resolved=True)
        started = instance.since_ns if state == "resolved" else (since if since is not None else self.now)
        instance.state, instance.changed_ns = state, time_ns
        instance.since_ns = self.now if state == "resolved" else started
        self.upserts.append(instance)
        self.transitions.append(Transition.of(instance, previous, time_ns, started))
