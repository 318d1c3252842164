"""Cumulative counters sampled now and then (the edge's per-device ``produced``) → amounts per hour.

Written by hand because InfluxQL's ``non_negative_difference`` drops what a counter counted after a
reset and puts each increase in the hour of the later sample; no library does counters over
calendar hours this way. The rules:
- An increase between two samples is spread evenly over the time between them: readings are
  produced steadily, and a sample taken at 10:00:05 holds readings of both 09:xx and 10:xx.
- A decrease is a reset (the agent or the device runner restarted and counts from 0 again): the
  new value is what was produced since, put in the hour just before the later sample (the agent
  reports within one health interval of starting). Increases summed this way are the "sum of
  positive deltas" plus what each reset would otherwise lose.
- The first sample of a series counts only with ``counts_first`` and when nothing precedes it
  within the look-back (the agent's first report after starting: its value is what it produced
  since). Otherwise it is the baseline.
- Fractional hours are rounded on the running total, so the hours add up to the exact increase.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

from cloud.derive.clock import HOUR_NS, LocalClock

Sample = tuple[int, float]
"""(time in ns, counter value)."""


def hourly_increase(
    samples: Sequence[Sample], clock: LocalClock, *, window_start_ns: int, counts_first: bool
) -> dict[int, int]:
    """Hour start → what the counter counted in that hour; ``samples`` sorted by time, the ones
    before ``window_start_ns`` only giving the baseline."""
    amounts: dict[int, float] = defaultdict(float)

    def step(at_ns: int, amount: float) -> None:
        amounts[clock.hour_floor(at_ns - 1)] += amount  # counted before the sample was taken

    def spread(t0: int, t1: int, amount: float) -> None:
        if t1 <= t0:
            step(t1, amount)
            return
        hour = clock.hour_floor(t0)
        while hour < t1:
            overlap = min(t1, hour + HOUR_NS) - max(t0, hour)
            if overlap > 0:
                amounts[hour] += amount * overlap / (t1 - t0)
            hour += HOUR_NS

    if not samples:
        return {}
    first_t, first_v = samples[0]
    if counts_first and first_t >= window_start_ns and first_v > 0:
        step(first_t, first_v)
    for (t0, v0), (t1, v1) in itertools.pairwise(samples):
        if v1 >= v0:
            if v1 > v0:
                spread(t0, t1, v1 - v0)
        elif v1 > 0:
            step(t1, v1)
    out: dict[int, int] = {}
    running, reported = 0.0, 0
    for hour in sorted(amounts):
        running += amounts[hour]
        total = round(running)
        out[hour] = total - reported
        reported = total
    return out
