"""Live scale weights → one ``weighing`` sample per vehicle, journaled in a hash chain before it leaves.

States: EMPTY (below ``zero_band_kg``, or not yet up to ``min_vehicle_kg``) → ON (a vehicle, not yet
recorded) → RECORDED (its weighing emitted) → EMPTY when the weight falls below ``zero_band_kg``.
Hysteresis between the two thresholds keeps a bouncing axle from making many vehicles.
"""

from __future__ import annotations

import enum
import logging
import math
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from firmware_bridge.registry import DeviceContext, Sample
from firmware_bridge.weighing import chain
from firmware_bridge.weighing.journal import JOURNAL_NAME, Journal
from firmware_bridge.weighing.options import WeighingOptions
from ioc.reading import Quality

log = logging.getLogger(__name__)

WEIGHING_FIELDS = ("gross_kg", "permitted_kg", "stable", "overload", "overload_pct", "sequence")
# A scale found occupied at start-up less than this long after the last record is taken to hold
# that record's vehicle, so a restart of the edge while a truck waits at the barrier does not weigh
# it twice (a stable weight beyond new_vehicle_delta_kg still makes a new vehicle). Trucks do not
# stand on a scale for longer.
RESUME_WINDOW_NS = 15 * 60 * 1_000_000_000


class _State(enum.Enum):
    EMPTY = "empty"
    ON = "on"
    RECORDED = "recorded"


class _StableWindow:
    """The longest run of recent weights within ``band_kg``; stable once it spans ``span_ns``."""

    def __init__(self, band_kg: float, span_ns: int) -> None:
        self.band_kg, self.span_ns = band_kg, span_ns
        self._samples: deque[tuple[int, float]] = deque()

    def clear(self) -> None:
        self._samples.clear()

    def add(self, time_ns: int, weight: float) -> float | None:
        """The median of the window when it is stable, else None."""
        if self._samples and time_ns < self._samples[-1][0]:
            self._samples.clear()  # the clock went back: what came before says nothing about now
        self._samples.append((time_ns, weight))
        while max(w for _, w in self._samples) - min(w for _, w in self._samples) > self.band_kg:
            self._samples.popleft()
        # Only the last span_ns matter: the median is of the window that just proved stable.
        while len(self._samples) > 1 and self._samples[-1][0] - self._samples[1][0] >= self.span_ns:
            self._samples.popleft()
        if self._samples[-1][0] - self._samples[0][0] >= self.span_ns:
            return statistics.median(w for _, w in self._samples)
        return None


class WeighingProcessor:
    """A weigh station's Processor: returns ``[sample]`` plus any ``weighing`` sample it makes."""

    def __init__(self, ctx: DeviceContext, clock: Callable[[], int] = time.time_ns) -> None:
        self.device_id = ctx.device_id
        self.options = _options(ctx.options)
        self.clock = clock
        self.journal = Journal(Path(ctx.state_dir) / JOURNAL_NAME)
        # weighings, bad_weighings, unstable_passes, new_vehicle_without_zero, resumed_vehicle,
        # ignored_samples, overload_on_empty_scale, journal_errors, unrecorded_vehicles
        self.counts: Counter[str] = Counter()
        self._state = _State.EMPTY
        self._window = _StableWindow(self.options.stable_band_kg, round(self.options.stable_s * 1e9))
        self._recorded_kg = 0.0
        self._peak_kg = 0.0
        self._journal_failed = False
        # Re-sent once after a start: a crash between the fsync and the edge's buffer would
        # otherwise lose it upstream; a replay overwrites the same point in InfluxDB.
        self._replay = self.journal.last
        self._resume = self.journal.last

    def __call__(self, sample: Sample) -> list[Sample]:
        out = [sample]
        if self._replay is not None:
            out.append(_weighing_sample(self._replay))
            self._replay = None
        weight = sample.fields.get("weight_kg")
        if (
            sample.measurement not in (None, "scale")
            or sample.quality == "bad"
            or isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
        ):
            self.counts["ignored_samples"] += 1
            return out
        tare = sample.fields.get("tare_kg")
        if sample.fields.get("net") is True and isinstance(tare, int | float) and not isinstance(tare, bool):
            weight += tare  # an indicator in net mode shows weight minus tare; a weighing is gross
        time_ns = sample.time_ns if sample.time_ns is not None else self.clock()
        flag = sample.fields.get("stable")
        overload = sample.fields.get("overload") is True
        record = self._step(time_ns, float(weight), flag if isinstance(flag, bool) else None, overload)
        if record is not None:
            out.append(_weighing_sample(record))
        return out

    def _step(self, time_ns: int, weight: float, flag: bool | None, overload: bool) -> dict[str, Any] | None:
        opts = self.options
        if self._resume is not None:
            self._resume_vehicle(time_ns, weight)
        if overload and weight < opts.zero_band_kg and self._state is _State.EMPTY:
            # Over (or under, "-OL") range with nothing on the deck: an indicator fault, not a vehicle.
            self.counts["overload_on_empty_scale"] += 1
            return None
        if weight < opts.zero_band_kg and not overload:
            if self._state is _State.ON:
                self.counts["unrecorded_vehicles" if self._journal_failed else "unstable_passes"] += 1
            self._state, self._journal_failed = _State.EMPTY, False
            self._window.clear()
            return None
        if self._state is _State.EMPTY:
            if weight < opts.min_vehicle_kg and not overload:
                return None  # between the thresholds: a person, a motorbike, debris
            self._state, self._peak_kg = _State.ON, 0.0
            self._window.clear()
        if overload:
            # Over range: the shown weight is not valid (a codec may even show 0), but the highest
            # weight seen is a lower bound. Say so at once, as a bad weighing, once per vehicle.
            shown = max(self._peak_kg, weight)
            if self._state is _State.ON or (
                weight >= opts.min_vehicle_kg and abs(weight - self._recorded_kg) > opts.new_vehicle_delta_kg
            ):
                return self._record(time_ns, shown, quality="bad")
            return None
        self._peak_kg = max(self._peak_kg, weight)
        band_stable = self._window.add(time_ns, weight)
        stable_kg = (weight if flag else None) if flag is not None else band_stable
        if stable_kg is None or stable_kg < opts.min_vehicle_kg:
            return None
        if self._state is _State.ON:
            return self._record(time_ns, stable_kg, quality="good")
        if abs(stable_kg - self._recorded_kg) > opts.new_vehicle_delta_kg:
            # Settled at a clearly different weight without the scale going empty: one vehicle
            # left as the next drove on. Within the delta it is the same truck repositioning.
            self.counts["new_vehicle_without_zero"] += 1
            return self._record(time_ns, stable_kg, quality="good")
        return None

    def _resume_vehicle(self, time_ns: int, weight: float) -> None:
        last, self._resume = self._resume, None
        assert last is not None
        recent = 0 <= time_ns - last["time_ns"] <= RESUME_WINDOW_NS
        if recent and weight >= self.options.zero_band_kg:
            self._state, self._recorded_kg, self._peak_kg = _State.RECORDED, last["gross_kg"], weight
            self.counts["resumed_vehicle"] += 1

    def _record(self, time_ns: int, weight: float, quality: Quality) -> dict[str, Any] | None:
        permitted = chain.kg(self.options.permitted_gross_kg)
        gross = chain.kg(weight)
        content = {
            "device": self.device_id,
            "time_ns": time_ns,
            "gross_kg": gross,
            "permitted_kg": permitted,
            "overload": gross > permitted * (1 + self.options.tolerance_pct / 100),
            "overload_pct": chain.kg(max(0.0, (gross / permitted - 1) * 100)),
            "stable": quality == "good",
            "quality": quality,
        }
        try:
            record = self.journal.append(content)
        except OSError as exc:
            # Never emit a weighing the journal does not hold; stay ON so the next sample retries.
            self.counts["journal_errors"] += 1
            if not self._journal_failed:
                log.error("weighing journal %s: %s; the vehicle is not recorded yet", self.journal.path, exc)
            self._journal_failed = True
            self._state = _State.ON
            return None
        self._state, self._recorded_kg, self._journal_failed = _State.RECORDED, gross, False
        self.counts["weighings" if quality == "good" else "bad_weighings"] += 1
        return record


def _weighing_sample(record: Mapping[str, Any]) -> Sample:
    fields = {key: record[key] for key in WEIGHING_FIELDS}
    fields["record_hash"], fields["prev_hash"] = record["record_hash"], record["prev_hash"]
    return Sample(fields=fields, measurement="weighing", time_ns=record["time_ns"], quality=record["quality"])


def _options(options: Any) -> WeighingOptions:
    if isinstance(options, WeighingOptions):
        return options
    return WeighingOptions.model_validate(options or {})


def new_weighing_processor(ctx: DeviceContext) -> WeighingProcessor:
    """The factory a scale family sets as ``DeviceFamily.new_processor``."""
    return WeighingProcessor(ctx)
