"""One camera's per-frame analysis: health, motion and counting on one shared downscaled grey frame.
The live source and `ioc camera analyze` both run frames through this, so a clip tunes what deploys."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.camera.counting import FlowAccumulator, FlowInterval, VehicleCounter
from edge.camera.health import HealthMonitor
from edge.camera.motion import MotionMeter
from edge.camera.options import CameraOptions

WORK_WIDTH = 320  # health and counting resolution: a 640-px-wide vehicle lane still has 10-px motorbikes


@dataclass
class FrameResult:
    state_change: str | None = None
    motion_pct: float = 0.0
    flows: list[FlowInterval] = field(default_factory=list)


class FrameAnalyzer:
    def __init__(self, options: CameraOptions) -> None:
        self.options = options
        self._scale: float | None = None
        self.motion = MotionMeter()
        self.flow = FlowAccumulator(options.lanes, options.flow_interval_s)
        self.health: HealthMonitor | None = None
        self.counter: VehicleCounter | None = None

    @property
    def state(self) -> str:
        return self.health.state if self.health else "ok"

    def _setup(self, width: int) -> None:
        self._scale = width / WORK_WIDTH
        self.health = HealthMonitor(self.options.health, self._scale)
        self.counter = VehicleCounter(
            self.options.lanes, self._scale, self.options.min_vehicle_px, self.options.fps
        )

    def process(self, frame: np.ndarray, t: float) -> FrameResult:
        """Analyse one BGR (or grey) frame taken at ``t`` seconds."""
        h, w = frame.shape[:2]
        if self._scale is None:
            self._setup(w)
        assert self.health is not None and self.counter is not None and self._scale is not None
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        small = cv2.resize(grey, (WORK_WIDTH, max(1, round(h / self._scale))), interpolation=cv2.INTER_AREA)
        result = FrameResult(self.health.update(small, t), self.motion.update(small))
        if self.options.lanes:
            crossings, occupied = self.counter.update(small)
            if self.health.state != "ok":
                crossings, occupied = [], set()  # a frozen, covered or moved picture counts nothing true
            result.flows = self.flow.add(t, crossings, occupied)
        return result

    def offline(self, t: float) -> str | None:
        return self.health.offline(t) if self.health else None
