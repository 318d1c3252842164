"""Vehicle counting: MOG2 background subtraction, a centroid tracker whose tracks persist across
frames, and virtual lines per lane with a direction. Hand-written tracker because the well-kept ones
(SORT/ByteTrack, OpenCV's contrib trackers) need detector boxes and cost far more than one gateway
core can give each of dozens of cameras; centroids with constant-velocity prediction suffice for
blobs from a fixed overhead-ish view."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.camera.options import Lane

MAX_MISSED = 4  # frames a track survives without a detection (occlusion, a missed blob)


@dataclass
class Track:
    id: int
    x: float
    y: float
    box: tuple[int, int, int, int]
    vx: float = 0.0
    vy: float = 0.0
    missed: int = 0
    counted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Line:
    name: str
    p1: tuple[float, float]
    p2: tuple[float, float]
    forward: tuple[float, float]
    forward_name: str
    backward_name: str

    def side(self, x: float, y: float) -> float:
        (x1, y1), (x2, y2) = self.p1, self.p2
        return (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)

    def crossed(self, ax: float, ay: float, bx: float, by: float) -> str | None:
        """The direction name if the move a→b crosses this segment, else None."""
        sa, sb = self.side(ax, ay), self.side(bx, by)
        if sa == 0 or (sa > 0) == (sb > 0):
            return None
        # The move crosses the infinite line; check it crosses between p1 and p2.
        (x1, y1), (x2, y2) = self.p1, self.p2
        da = (bx - ax) * (y1 - ay) - (by - ay) * (x1 - ax)
        db = (bx - ax) * (y2 - ay) - (by - ay) * (x2 - ax)
        if da != 0 and db != 0 and (da > 0) == (db > 0):
            return None
        dot = (bx - ax) * self.forward[0] + (by - ay) * self.forward[1]
        return self.forward_name if dot > 0 else self.backward_name

    def touches(self, box: tuple[int, int, int, int]) -> bool:
        ok, _, _ = cv2.clipLine(box, tuple(map(round, self.p1)), tuple(map(round, self.p2)))
        return bool(ok)

    def direction_of(self, vx: float, vy: float) -> str | None:
        dot = vx * self.forward[0] + vy * self.forward[1]
        return None if dot == 0 else (self.forward_name if dot > 0 else self.backward_name)


class VehicleCounter:
    def __init__(self, lanes: list[Lane], scale: float, min_area_px: int, fps: float) -> None:
        """``scale``: camera-frame pixels per pixel of the grey frames fed in."""
        self.lines = [
            _Line(
                lane.name,
                (lane.line[0][0] / scale, lane.line[0][1] / scale),
                (lane.line[1][0] / scale, lane.line[1][1] / scale),
                lane.forward,
                lane.forward_name,
                lane.backward_name,
            )
            for lane in lanes
        ]
        self.min_area = max(4.0, min_area_px / scale**2)
        # history ≈ 10 s: the background follows dusk and clouds, yet a stopped truck takes long to fade.
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=int(10 * fps), varThreshold=25, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.tracks: list[Track] = []
        self._next_id = 1
        self.max_jump = 40.0 / scale  # camera px between predicted and detected centroid

    def update(self, grey: np.ndarray) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
        """Feed one frame; returns (crossings as (lane, direction), the (lane, direction) pairs whose
        line a vehicle stands on now, for occupancy)."""
        mask = self._mog.apply(grey)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        mask = cv2.dilate(mask, self._kernel)
        n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = [
            (float(centroids[i][0]), float(centroids[i][1]), tuple(int(v) for v in stats[i][:4]))
            for i in range(1, n)
            if stats[i][cv2.CC_STAT_AREA] >= self.min_area
        ]
        crossings = self._track(blobs)
        occupied: set[tuple[str, str]] = set()
        for tr in self.tracks:
            if tr.missed:
                continue
            for line in self.lines:
                if line.touches(tr.box):
                    d = line.direction_of(tr.vx, tr.vy)
                    if d is not None:
                        occupied.add((line.name, d))
        return crossings, occupied

    def _track(self, blobs: list[tuple[float, float, tuple[int, int, int, int]]]) -> list[tuple[str, str]]:
        # Greedy nearest matching on predicted positions: blobs are few and far apart per frame.
        pairs = sorted(
            (math.hypot(bx - (t.x + t.vx), by - (t.y + t.vy)), ti, bi)
            for ti, t in enumerate(self.tracks)
            for bi, (bx, by, _) in enumerate(blobs)
        )
        used_t: set[int] = set()
        used_b: set[int] = set()
        crossings: list[tuple[str, str]] = []
        for dist, ti, bi in pairs:
            if dist > self.max_jump or ti in used_t or bi in used_b:
                continue
            used_t.add(ti)
            used_b.add(bi)
            tr = self.tracks[ti]
            bx, by, box = blobs[bi]
            for line in self.lines:
                if line.name in tr.counted:
                    continue
                d = line.crossed(tr.x, tr.y, bx, by)
                if d is not None:
                    tr.counted.add(line.name)
                    crossings.append((line.name, d))
            steps = tr.missed + 1
            tr.vx = 0.5 * tr.vx + 0.5 * (bx - tr.x) / steps
            tr.vy = 0.5 * tr.vy + 0.5 * (by - tr.y) / steps
            tr.x, tr.y, tr.box, tr.missed = bx, by, box, 0
        for ti, tr in enumerate(self.tracks):
            if ti not in used_t:
                tr.missed += 1
                tr.x += tr.vx
                tr.y += tr.vy
        self.tracks = [t for t in self.tracks if t.missed <= MAX_MISSED]
        for bi, (bx, by, box) in enumerate(blobs):
            if bi not in used_b:
                self.tracks.append(Track(self._next_id, bx, by, box))
                self._next_id += 1
        return crossings


@dataclass
class FlowInterval:
    start_s: float
    interval_s: int
    counts: dict[tuple[str, str], int]
    occupancy: dict[tuple[str, str], float]  # percent of analysed frames


class FlowAccumulator:
    """Counts per lane, direction and interval; every lane and direction gets a row, zeros included."""

    def __init__(self, lanes: list[Lane], interval_s: int) -> None:
        self.keys = [(lane.name, d) for lane in lanes for d in (lane.forward_name, lane.backward_name)]
        self.interval_s = interval_s
        self._start: float | None = None
        self._reset()

    def _reset(self) -> None:
        self.counts = dict.fromkeys(self.keys, 0)
        self.occupied = dict.fromkeys(self.keys, 0)
        self.frames = 0

    def add(
        self, t: float, crossings: list[tuple[str, str]], occupied: set[tuple[str, str]]
    ) -> list[FlowInterval]:
        done: list[FlowInterval] = []
        if self._start is None:
            self._start = t - t % self.interval_s  # intervals aligned to the clock, like the other stations
        while t >= self._start + self.interval_s:
            done.append(self._close())
            self._start += self.interval_s
        for key in crossings:
            self.counts[key] = self.counts.get(key, 0) + 1
        for key in occupied:
            self.occupied[key] = self.occupied.get(key, 0) + 1
        self.frames += 1
        return done

    def flush(self) -> list[FlowInterval]:
        return [self._close()] if self._start is not None and self.frames else []

    def _close(self) -> FlowInterval:
        assert self._start is not None
        occ = {k: 100.0 * v / self.frames if self.frames else 0.0 for k, v in self.occupied.items()}
        interval = FlowInterval(self._start, self.interval_s, dict(self.counts), occ)
        self._reset()
        return interval
