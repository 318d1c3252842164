"""Motion level: a running-average background on a ~100-px-high frame, as Frigate does — cheap
enough to run on every frame of every camera."""

from __future__ import annotations

import cv2
import numpy as np

MOTION_HEIGHT = 100


class MotionMeter:
    def __init__(self, alpha: float = 0.05, threshold: int = 25) -> None:
        self.alpha = alpha
        self.threshold = threshold
        self._avg: np.ndarray | None = None
        self._bg: np.ndarray | None = None

    def update(self, grey: np.ndarray) -> float:
        """Percent of the picture that moved in ``grey`` (any size; downscaled here)."""
        h, w = grey.shape
        # A whole factor (180 → 90 px): INTER_AREA then takes its fast path, ~30× cheaper than 100 px.
        f = max(1, round(h / MOTION_HEIGHT))
        small = cv2.resize(grey, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
        cv2.GaussianBlur(small, (3, 3), 0, dst=small)
        if self._avg is None or self._avg.shape != small.shape:
            self._avg = small.astype(np.float32)
            return 0.0
        self._bg = cv2.convertScaleAbs(self._avg, self._bg)
        delta = cv2.absdiff(small, self._bg)
        cv2.accumulateWeighted(small, self._avg, self.alpha)
        cv2.threshold(delta, self.threshold, 255, cv2.THRESH_BINARY, dst=delta)
        return 100.0 * cv2.countNonZero(delta) / small.size
