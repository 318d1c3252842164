"""One InfluxQL query per rule, answered as one observation per alert group (or per event).

Windows are bounded by an explicit ``now_ns`` (``time > now−window AND time <= now``) instead of
``now()``, so that an evaluation can be replayed at any instant — the tests pin it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud.alerts.model import Rule, Scalar
from cloud.influx_query import InfluxQuery, quote_ident, quote_literal
from ioc.reading import IDENTITY_TAGS, FieldValue

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Observation:
    tags: dict[str, str]  # the group's tags (empty values left out) plus identity tags fixed by `where`
    value: FieldValue | None
    time_ns: int  # the point's time for last/any/events; the window's start for mean/count/…
    event: str | None = None  # the event_key value of an event-style rule


def literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote_literal(value)
    return repr(value)


def match_clause(rule: Rule) -> str:
    """The rule's condition as an InfluxQL predicate on its field (for `any` and event rules)."""
    field = quote_ident(rule.field)
    if rule.above is not None:
        return f"{field} > {literal(rule.above)}"
    if rule.below is not None:
        return f"{field} < {literal(rule.below)}"
    if rule.equals is not None:
        return f"{field} = {literal(rule.equals)}"
    if rule.not_equals is not None:
        return f"{field} != {literal(rule.not_equals)}"
    if rule.in_ is not None:
        return "(" + " OR ".join(f"{field} = {literal(v)}" for v in rule.in_) + ")"
    return ""  # no_data has no predicate


def build_query(rule: Rule, now_ns: int) -> str:
    start = now_ns - rule.window_s * NS
    conditions = [f"time > {start}", f"time <= {now_ns}"]
    conditions += [
        f"{quote_ident(tag)} = {quote_literal(value)}" for tag, value in sorted(rule.where.items())
    ]
    if rule.quality:
        conditions.append("(" + " OR ".join(f'"quality" = {quote_literal(q)}' for q in rule.quality) + ")")
    field = quote_ident(rule.field)
    if rule.event_key is not None:
        select = f"{field}, {quote_ident(rule.event_key)}"
        conditions.append(match_clause(rule))
    elif rule.aggregate == "any":
        select = f"last({field})"
        conditions.append(match_clause(rule))
    else:
        select = f"{rule.aggregate}({field})"
    group = ", ".join(quote_ident(tag) for tag in rule.groups)
    where = " AND ".join(conditions)
    return f"SELECT {select} FROM {quote_ident(rule.measurement)} WHERE {where} GROUP BY {group}"


def observe(rule: Rule, query: InfluxQuery, now_ns: int) -> list[Observation]:
    """What the rule sees at now_ns; raises cloud.influx_query.QueryError when InfluxDB fails."""
    fixed = {tag: value for tag, value in rule.where.items() if tag in IDENTITY_TAGS}
    out = []
    for row in query.rows(build_query(rule, now_ns)):
        tags = dict(fixed)
        tags.update({tag: row[tag] for tag in rule.groups if row.get(tag)})
        if rule.event_key is not None:
            event = row.get(rule.event_key)
            if event is None:
                continue  # a matching point without its key cannot be told apart from others
            out.append(Observation(tags, _value(row.get(rule.field)), int(row["time"]), str(event)))
        else:
            column = "last" if rule.aggregate == "any" else rule.aggregate
            out.append(Observation(tags, _value(row.get(column)), int(row["time"])))
    return out


def _value(value: Any) -> FieldValue | None:
    return value if isinstance(value, bool | int | float | str) else None
