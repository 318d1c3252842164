"""Checks of one rule that a key's type cannot express: against the measurement dictionary (the only
source of measurement, field and tag names) and between keys (one condition, hysteresis direction)."""

from __future__ import annotations

from cloud.alerts.model import CONDITIONS, Rule, Scalar
from ioc.config.errors import ProblemLog, suggest
from ioc.config.yaml_lines import YamlPath
from ioc.measurements import FieldSpec, Measurement, dictionary
from ioc.reading import QUALITIES

# Every point carries its quality as a string field (cloud.points.to_line), whatever the measurement.
QUALITY_FIELD = FieldSpec("quality", "str", "", values=tuple(sorted(QUALITIES)))
_NUMERIC = ("int", "float")
_VALUE_CONDITIONS = ("equals", "not_equals", "in")


def field_spec(rule: Rule) -> FieldSpec | None:
    if rule.field == "quality":
        return QUALITY_FIELD
    measurement = dictionary().get(rule.measurement)
    return measurement.fields.get(rule.field) if measurement else None


def check_rule(rule: Rule, log: ProblemLog, path: YamlPath, names_only: bool = False) -> None:
    """Problems of one rule go to log at path; names_only checks just the names it refers to."""
    measurement = dictionary().get(rule.measurement)
    if measurement is None:
        names = list(dictionary())
        log.add((*path, "measurement"), "not in the measurement dictionary", suggest(rule.measurement, names))
        return
    _check_tags(rule, measurement, log, path)
    spec = field_spec(rule)
    if spec is None:
        log.add(
            (*path, "field"),
            f"{rule.measurement} has no such field",
            suggest(rule.field, _fields(measurement)),
        )
    if rule.event_key is not None and rule.event_key not in measurement.fields:
        message = f"{rule.measurement} has no such field"
        log.add((*path, "event_key"), message, suggest(rule.event_key, _fields(measurement)))
    if names_only:
        return
    present = [key for key in CONDITIONS if getattr(rule, "in_" if key == "in" else key) is not None]
    if len(present) != 1:
        found = f"found {' and '.join(present)}" if present else "found none"
        log.add(path, f"a rule needs exactly one condition of {', '.join(CONDITIONS)} ({found})")
        return
    _check_condition(rule, present[0], spec, log, path)


def _fields(measurement: Measurement) -> list[str]:
    return [*measurement.fields, "quality"]


def _check_tags(rule: Rule, measurement: Measurement, log: ProblemLog, path: YamlPath) -> None:
    tags = measurement.required_tags
    for tag in rule.where:
        if tag not in tags:
            log.add((*path, "where", tag), f"{rule.measurement} has no tag '{tag}'", suggest(tag, tags))
    for index, tag in enumerate(rule.group_by):
        if tag not in tags:
            log.add((*path, "group_by", index), f"{rule.measurement} has no tag '{tag}'", suggest(tag, tags))


def _check_condition(
    rule: Rule, condition: str, spec: FieldSpec | None, log: ProblemLog, path: YamlPath
) -> None:
    numeric_value = rule.aggregate == "count" or (spec is not None and spec.type in _NUMERIC)
    if rule.aggregate in ("mean", "max", "min") and spec is not None and spec.type not in _NUMERIC:
        log.add((*path, "aggregate"), f"{rule.aggregate} needs a number field; {rule.field} is {spec.type}")
    if rule.clear_at is not None and condition not in ("above", "below"):
        log.add((*path, "clear_at"), "clear_at (hysteresis) goes only with above or below")
    if condition in ("above", "below"):
        if not numeric_value:
            kind = spec.type if spec else "unknown"
            log.add((*path, condition), f"{condition} needs a number; {rule.field} is {kind} (use equals)")
        threshold = rule.above if condition == "above" else rule.below
        assert threshold is not None
        if (
            rule.clear_at is not None
            and (rule.clear_at - threshold) * (1 if condition == "below" else -1) < 0
        ):
            side = "at or below" if condition == "above" else "at or above"
            log.add((*path, "clear_at"), f"must be {side} the {condition} threshold {threshold:g}")
    if rule.aggregate == "any" and condition not in _VALUE_CONDITIONS:
        log.add(
            (*path, "aggregate"), "any goes with equals, not_equals or in (a matching point in the window)"
        )
    if condition in _VALUE_CONDITIONS and spec is not None and rule.aggregate != "count":
        values = rule.in_ if condition == "in" else [getattr(rule, condition)]
        for index, value in enumerate(values or []):
            where = (*path, condition, index) if condition == "in" else (*path, condition)
            _check_value(value, spec, log, where)
    if condition == "no_data":
        assert rule.no_data is not None
        if rule.no_data <= 0:
            log.add((*path, "no_data"), "must be a positive duration")
        elif rule.no_data >= rule.window_s:
            log.add((*path, "no_data"), f"must be shorter than window ({rule.window_s} s), the lookback")
        if rule.aggregate != "last" or rule.event_key is not None:
            log.add(path, "no_data rules look at the time of the last point: drop aggregate and event_key")
    if rule.event_key is not None and (rule.aggregate != "last" or rule.for_):
        log.add(path, "event rules look at each point: drop aggregate and for")
    if rule.window is not None and rule.window <= 0:
        log.add((*path, "window"), "must be a positive duration")


def _check_value(value: Scalar, spec: FieldSpec, log: ProblemLog, path: YamlPath) -> None:
    expected = {"bool": bool, "str": str}.get(spec.type)
    ok = (
        isinstance(value, expected)
        if expected
        else isinstance(value, int | float) and not isinstance(value, bool)
    )
    if not ok:
        log.add(path, f"{spec.name} is a {spec.type} field (got {value!r})")
    elif spec.values is not None and value not in spec.values:
        message = f"{spec.name} takes {', '.join(spec.values)} (got {value!r})"
        log.add(path, message, suggest(value, spec.values))
