"""NowCast of hourly PM means, as Quyết định 1459/QĐ-TCMT (2019) writes it for the hourly VN_AQI.

The decision (standards.md §1) takes the last 12 hourly means c1..c12, c1 being the current hour:

- w* = min(c) / max(c) over the available hours; w = w* if w* > 1/2, else w = 1/2.
- w > 1/2: NowCast = Σ w^(i−1)·ci / Σ w^(i−1), sums over the available hours.
- w = 1/2: NowCast = Σ (1/2)^i·ci — the decision prints this form *without* dividing by the sum
  of the weights, and that is what :func:`nowcast` computes by default. With all 12 hours present
  the weights (1/2)^i sum to 1 − 2^−12 ≈ 0.99976, so the value is within 0.03 % of a normalised
  mean; with hours missing it is lower than a normalised mean would be (a missing c1 halves it).
  ``half_weight_form="normalised"`` gives Σ (1/2)^(i−1)·ci / Σ (1/2)^(i−1) instead, for anyone who
  wants the w > 1/2 form carried through; it is not what the decision writes.
- At least 2 of c1, c2, c3 must exist, else there is no value. A missing hour carries no weight:
  it is left out of every sum and out of min/max (the exponent i keeps the hour's position).

Our readings where the text is silent:
- Only c1..c12 are used; a longer sequence is cut after 12.
- All available hours 0 (max = 0, w* = 0/0): the NowCast is 0, which is what either form gives
  for any w.
- Negative or non-finite hourly means are a caller error (ValueError); validate input first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

HOURS = 12
"""How many hourly means the NowCast looks back over, current hour included."""
MIN_OF_FIRST_THREE = 2
"""How many of c1, c2, c3 must exist for a NowCast value."""

_HALVES = [0.5**i for i in range(HOURS + 1)]
HalfWeightForm = Literal["decision", "normalised"]


def _weight(available: Sequence[float]) -> float:
    low, high = min(available), max(available)
    if low < 0 or not math.isfinite(sum(available)):  # NaN and ±inf survive the sum
        raise ValueError(f"hourly means must be finite and ≥ 0, got {list(available)!r}")
    if high == 0:
        return 1.0
    w_star = low / high
    return w_star if w_star > 0.5 else 0.5


def nowcast_weight(hourly: Sequence[float | None]) -> float | None:
    """The weight w of the decision (w* = min/max clamped below at 1/2), or None without data."""
    available = [c for c in hourly[:HOURS] if c is not None]
    return _weight(available) if available else None


def nowcast(hourly: Sequence[float | None], *, half_weight_form: HalfWeightForm = "decision") -> float | None:
    """The NowCast of hourly means ``hourly`` = (c1, c2, …), c1 the current hour; None marks a gap.

    Returns None when fewer than 2 of c1..c3 exist. ``half_weight_form`` chooses the w = 1/2
    formula: ``"decision"`` (default) is the decision's unnormalised Σ (1/2)^i·ci, ``"normalised"``
    divides by the weights' sum like the w > 1/2 case.
    """
    if half_weight_form not in ("decision", "normalised"):
        raise ValueError(f"half_weight_form must be 'decision' or 'normalised', not {half_weight_form!r}")
    first = hourly[:3]
    if len(first) - list(first).count(None) < MIN_OF_FIRST_THREE:
        return None
    window = hourly[:HOURS]
    # Exponents from 0: hour i (1-based) has weight w^(i−1), or (1/2)^i in the decision's w = 1/2 form.
    present = [(k, c) for k, c in enumerate(window) if c is not None]
    w = _weight([c for _, c in present])
    if w == 0.5 and half_weight_form == "decision":
        return sum(_HALVES[k + 1] * c for k, c in present)
    powers = [w**k for k in range(len(window))]
    return sum(powers[k] * c for k, c in present) / sum(powers[k] for k, _ in present)
