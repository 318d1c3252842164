"""Picture health of one camera against its own learned baseline (standards.md section 6).

Works on the downscaled grey frame the pipeline already made; the checks are a handful of numpy
reductions per frame, plus one phase correlation per second for the moved-camera check.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import cv2
import numpy as np

from edge.camera.options import HealthThresholds

# Highest first: a covered lens is also "frozen" and "defocused"; the wall shows the root cause.
PRIORITY = ("offline", "covered", "overexposed", "frozen", "low_light", "defocused", "moved")
MOVED_EVERY_S = 1.0


@dataclass
class _Debounce:
    """Hysteresis for one condition: raised after holding ``raise_s``, cleared after ``clear_s`` absent."""

    active: bool = False
    since: float | None = None  # when the condition started to disagree with ``active``

    def update(self, present: bool, t: float, raise_s: float, clear_s: float) -> bool:
        if present == self.active:
            self.since = None
        elif self.since is None:
            self.since = t
        if self.since is not None and t - self.since >= (raise_s if present else clear_s):
            self.active, self.since = present, None
        return self.active


def sharpness(grey: np.ndarray, std: float | None = None) -> float:
    """Laplacian variance over picture variance: focus, independent of light and contrast.
    ``std``: the picture's standard deviation when the caller has it already."""
    var = (float(cv2.meanStdDev(grey)[1][0, 0]) if std is None else std) ** 2
    if var <= 1e-3:
        return 0.0
    # 16-bit holds a 3×3 Laplacian of 8-bit pixels exactly, at half the cost of float; its variance
    # from two vectorised sums, since meanStdDev on 16-bit has no fast path (20× slower).
    lap = cv2.Laplacian(grey, cv2.CV_16S)
    n = lap.size
    return (cv2.norm(lap, cv2.NORM_L2SQR) / n - (cv2.sumElems(lap)[0] / n) ** 2) / var


class HealthMonitor:
    def __init__(self, thresholds: HealthThresholds, scale: float) -> None:
        """``scale``: camera-frame pixels per pixel of the grey frames fed in."""
        self.t = thresholds
        self.scale = scale
        self.state = "ok"
        self._conditions = {name: _Debounce() for name in PRIORITY}
        self._prev: np.ndarray | None = None
        self._baseline_start: float | None = None
        self._means: list[float] = []
        self._sharp: list[float] = []
        self._acc: np.ndarray | None = None
        self.base_mean: float | None = None
        self.base_sharp: float | None = None
        self.reference: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._last_shift_t = -1e9
        self.shift_px = 0.0

    @property
    def learned(self) -> bool:
        return self.reference is not None

    def offline(self, t: float) -> str | None:
        """No picture at all (stream down): immediate, since the watchdog already waited."""
        cond = self._conditions["offline"]
        cond.active, cond.since = True, None
        return self._decide()

    def update(self, grey: np.ndarray, t: float) -> str | None:
        """Feed one frame; returns the new state when it changed, else None."""
        th = self.t
        m, s = cv2.meanStdDev(grey)
        mean, std = float(m.flat[0]), float(s.flat[0])
        if self._prev is None or self._prev.shape != grey.shape:
            diff, self._prev = 255.0, grey.copy()
        else:  # mean absolute difference; a copy, since the caller reuses its frame buffer
            diff = cv2.norm(grey, self._prev, cv2.NORM_L1) / grey.size
            np.copyto(self._prev, grey)
        covered = mean < th.black_mean and std < th.black_std
        over = mean > th.over_mean
        present = {
            "offline": False,
            "covered": covered,
            "overexposed": over,
            "frozen": diff < th.frozen_diff and not covered and not over,
        }
        if not self.learned:
            if not any(present.values()):
                self._learn(grey, mean, std, t)
        else:
            assert self.base_mean is not None and self.base_sharp is not None
            present["low_light"] = not covered and mean < th.low_light_ratio * self.base_mean
            present["defocused"] = (
                not covered and not over and sharpness(grey, std) < th.defocus_ratio * self.base_sharp
            )
            if t - self._last_shift_t >= MOVED_EVERY_S:
                self._last_shift_t = t
                self.shift_px = self._shift(grey)
            present["moved"] = not covered and not over and self.shift_px > th.moved_px
        for name, cond in self._conditions.items():
            cond.update(present.get(name, False), t, th.raise_s, th.clear_s)
        return self._decide()

    def _decide(self) -> str | None:
        state = next((n for n in PRIORITY if self._conditions[n].active), "ok")
        if state == self.state:
            return None
        self.state = state
        return state

    def _learn(self, grey: np.ndarray, mean: float, std: float, t: float) -> None:
        if self._baseline_start is None:
            self._baseline_start = t
            self._acc = np.zeros(grey.shape, np.float32)
        assert self._acc is not None
        self._means.append(mean)
        self._sharp.append(sharpness(grey, std))
        # The mean picture of the baseline: passing vehicles average out of the reference.
        cv2.accumulate(grey, self._acc)
        if t - self._baseline_start >= self.t.baseline_s:
            self.base_mean = statistics.median(self._means)
            self.base_sharp = statistics.median(self._sharp)
            self.reference = self._acc / len(self._means)
            self._window = cv2.createHanningWindow(grey.shape[::-1], cv2.CV_32F)

    def _shift(self, grey: np.ndarray) -> float:
        assert self.reference is not None
        # Full resolution on purpose: on a half-size frame passing vehicles pull the peak off by 5–50 px.
        (dx, dy), _ = cv2.phaseCorrelate(self.reference, grey.astype(np.float32), self._window)
        return float(np.hypot(dx, dy)) * self.scale
