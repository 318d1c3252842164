"""An alert rule as it is written in ``configs/alerts/*.yaml``.

The model checks each key's type; what depends on several keys or on the measurement dictionary
(one condition per rule, clear_at on the right side, a field that exists) is checked in
:mod:`cloud.alerts.loader`, where each problem can be placed on its own line.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ioc.reading import IDENTITY_TAGS, Quality
from ioc.topics import ID_PATTERN

Severity = Literal["critical", "major", "minor", "info"]
Aggregate = Literal["last", "mean", "max", "min", "count", "any"]
Scalar = bool | int | float | str

# The keys that state a rule's condition; a rule has exactly one.
CONDITIONS: Final[tuple[str, ...]] = ("above", "below", "equals", "not_equals", "in", "no_data")
DEFAULT_WINDOW_S: Final = 3600
DEFAULT_NO_DATA_LOOKBACK_S: Final = 24 * 3600

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> int:
    """``30s``, ``5m``, ``8h``, ``7d`` or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m, 8h or 7d")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a duration like 30s, 5m, 8h or 7d (got {value!r})")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def format_duration(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_S[unit] == 0:
            return f"{seconds // _UNIT_S[unit]}{unit}"
    return f"{seconds}s"


def _scalar(value: Any) -> Any:
    if not isinstance(value, Scalar):
        raise ValueError("expected a number, true/false or text")
    return value


def _scalars(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of values, e.g. [offline, covered]")
    return [_scalar(item) for item in value]


Duration = Annotated[int, BeforeValidator(parse_duration)]
Value = Annotated[Scalar, BeforeValidator(_scalar)]
Values = Annotated[list[Scalar], BeforeValidator(_scalars)]


class Title(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN.pattern)
    title: Title
    severity: Severity
    measurement: str
    field: str
    # Tag filters, e.g. {device: agent} or {signal_group: controller}.
    where: dict[str, str] = Field(default_factory=dict)
    # One alert per distinct combination of these tags; city is always added (alerts go out per city).
    group_by: list[str] = Field(default_factory=lambda: list(IDENTITY_TAGS))
    aggregate: Aggregate = "last"
    window: Duration | None = None
    above: float | None = None
    below: float | None = None
    equals: Value | None = None
    not_equals: Value | None = None
    in_: Values | None = Field(default=None, alias="in")
    no_data: Duration | None = None
    clear_at: float | None = None
    for_: Duration = Field(default=0, alias="for")
    # Only points of these qualities count (e.g. leave out a station's calibration values).
    quality: list[Quality] | None = None
    # Event-style: every matching point is an alert of its own, told apart by this field's value.
    event_key: str | None = None

    @property
    def condition(self) -> str:
        """The condition key this rule uses (the loader has checked there is exactly one)."""
        for key in CONDITIONS:
            if getattr(self, "in_" if key == "in" else key) is not None:
                return key
        raise ValueError(f"rule {self.id} has no condition")

    @property
    def window_s(self) -> int:
        """How far back the query looks; for no_data rules, how long a silent group stays known."""
        if self.window is not None:
            return self.window
        return DEFAULT_NO_DATA_LOOKBACK_S if self.no_data is not None else DEFAULT_WINDOW_S

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(["city", *self.group_by]))


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list)
