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
        # Reused every frame: a fresh full-size array per frame costs page faults, not just a copy.
        self._grey: np.ndarray | None = None
        self._small: np.ndarray | None = None

    @property
    def state(self) -> str:
        return self.health.state if self.health else "ok"

    def _setup(self, width: int, height: int) -> None:
        self._scale = width / WORK_WIDTH
        size = (WORK_WIDTH, max(1, round(height / self._scale)))
        self._grey = np.empty((height, width), np.uint8)
        self._small = np.empty(size[::-1], np.uint8)
        self.health = HealthMonitor(self.options.health, self._scale)
        if self.options.lanes:
            self.counter = VehicleCounter(
                self.options.lanes, self._scale, self.options.min_vehicle_px, self.options.fps, size
            )

    def process(self, frame: np.ndarray, t: float) -> FrameResult:
        """Analyse one BGR (or grey) frame taken at ``t`` seconds."""
        if self._scale is None:
            self._setup(frame.shape[1], frame.shape[0])
        assert self.health is not None and self._grey is not None and self._small is not None
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY, dst=self._grey) if frame.ndim == 3 else frame
        # Grey first, then an exact 2× (or any) area reduction: one colour pass, on the camera frame only.
        small = cv2.resize(grey, self._small.shape[::-1], dst=self._small, interpolation=cv2.INTER_AREA)
        result = FrameResult(self.health.update(small, t), self.motion.update(small))
        if self.counter is not None:
            crossings, occupied = self.counter.update(small)
            if self.health.state != "ok":
                crossings, occupied = [], set()  # a frozen, covered or moved picture counts nothing true
            result.flows = self.flow.add(t, crossings, occupied)
        return result

    def offline(self, t: float) -> str | None:
        return self.health.offline(t) if self.health else None
