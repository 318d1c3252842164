"""The one-line message an operator reads on the wall, in Vietnamese (titles carry both languages)."""

from __future__ import annotations

from cloud.alerts.model import Rule, format_duration
from cloud.alerts.semantics import field_spec
from ioc.reading import FieldValue

_AGGREGATE_VI = {"mean": "TB", "max": "max", "min": "min", "count": "số điểm", "last": "", "any": ""}


def number(value: float) -> str:
    return f"{round(value, 2):g}" if abs(value) < 1e6 else f"{value:.0f}"


def place(tags: dict[str, str]) -> str:
    """site/device (or site/gateway): enough for an operator to find the equipment."""
    device = tags.get("device")
    last = tags.get("gateway") if device in (None, "", "agent") else device  # the agent is its gateway
    parts = [p for p in (tags.get("site"), last) if p]
    return "/".join(dict.fromkeys(parts)) or tags.get("city", "")


def describe(
    rule: Rule,
    tags: dict[str, str],
    value: FieldValue | None,
    event: str | None = None,
    resolved: bool = False,
) -> str:
    head = f"{'Hết: ' if resolved else ''}{rule.title.vi} — {place(tags)}"
    return f"{head}: {_detail(rule, value, event)}"


def _detail(rule: Rule, value: FieldValue | None, event: str | None) -> str:
    if rule.no_data is not None:
        if not isinstance(value, int | float):
            return "không có dữ liệu"
        return f"không có dữ liệu {number(value)} s (ngưỡng {rule.no_data} s)"
    if value is None:
        return f"không có dữ liệu trong {format_duration(rule.window_s)}"
    spec = field_spec(rule)
    unit = f" {spec.unit}" if spec and spec.unit and rule.aggregate != "count" else ""
    label = _AGGREGATE_VI.get(rule.aggregate, rule.aggregate)
    what = f"{rule.field} {label} {format_duration(rule.window_s)}" if label else rule.field
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = f"{what} = {str(value).lower() if isinstance(value, bool) else value}"
    else:
        text = f"{what} = {number(value)}{unit}"
    if rule.above is not None:
        text += f" (ngưỡng > {number(rule.above)})"
    elif rule.below is not None:
        text += f" (ngưỡng < {number(rule.below)})"
    if event is not None:
        text += f" [{rule.event_key} {event[:12]}]"
    return text
