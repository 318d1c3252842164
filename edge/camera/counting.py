"""Vehicle counting: MOG2 background subtraction on a strip of road around each lane's virtual line,
a centroid tracker per lane whose tracks persist across frames, and a direction per crossing.

Hand-written tracker because the well-kept ones (SORT/ByteTrack, OpenCV's contrib trackers) need
detector boxes and cost far more than one gateway core can give each of dozens of cameras; centroids
with constant-velocity prediction suffice for blobs from a fixed overhead-ish view. Sizes here are in
pixels of the analysed frame (320 px wide whatever the camera sends), so they hold for any camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.camera.options import Lane

# Analysed: this far either side of a line along its lane, at 10 fps. A 75-km/h car moves about
# 12 px a frame here, so it is seen at least four times on each side of the line.
STRIP_PX = 48.0
MAX_JUMP_PX = 20.0  # between a track's predicted and detected centroid, at 10 fps
MAX_MISSED = 4  # frames a track survives without a detection (occlusion, a missed blob)
# MOG2 counts as background the commonest colours that explain this share of a pixel's history. Its
# default (0.9) lets a busy lane's frequent dark or light vehicle shade join the road, hiding the next
# vehicle of that shade; the road alone explains well over 70 % of the time even in dense traffic.
BACKGROUND_RATIO = 0.7
GAIN_LIMITS = (0.25, 4.0)  # light compensation, beyond which the picture is too dark or bright to help


@dataclass
class Track:
    x: float  # last detected centroid, in the lane strip's pixels
    y: float
    box: tuple[int, int, int, int]
    vx: float = 0.0
    vy: float = 0.0
    missed: int = 0
    counted: bool = False

    def predicted(self) -> tuple[float, float]:
        steps = self.missed + 1
        return self.x + self.vx * steps, self.y + self.vy * steps


@dataclass(frozen=True)
class _Line:
    p1: tuple[float, float]
    p2: tuple[float, float]
    forward: tuple[float, float]
    forward_name: str
    backward_name: str

    def side(self, x: float, y: float) -> bool:
        (x1, y1), (x2, y2) = self.p1, self.p2
        # A point exactly on the line belongs to one side, so a centroid landing on it still counts.
        return (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) >= 0

    def crossed(self, ax: float, ay: float, bx: float, by: float) -> str | None:
        """The direction name if the move a→b crosses this segment, else None."""
        if self.side(ax, ay) == self.side(bx, by):
            return None
        # The move crosses the infinite line; check it crosses between p1 and p2.
        (x1, y1), (x2, y2) = self.p1, self.p2
        da = (bx - ax) * (y1 - ay) - (by - ay) * (x1 - ax)
        db = (bx - ax) * (y2 - ay) - (by - ay) * (x2 - ax)
        if da != 0 and db != 0 and (da > 0) == (db > 0):
            return None
        return self.direction_of(bx - ax, by - ay)

    def touches(self, box: tuple[int, int, int, int]) -> bool:
        ok, _, _ = cv2.clipLine(box, tuple(map(round, self.p1)), tuple(map(round, self.p2)))
        return bool(ok)

    def direction_of(self, vx: float, vy: float) -> str | None:
        dot = vx * self.forward[0] + vy * self.forward[1]
        return None if dot == 0 else (self.forward_name if dot > 0 else self.backward_name)


class _LaneCounter:
    """One lane: its strip of the foreground mask (so a vehicle in the next lane, even touching this
    one's, never merges with this lane's blobs), its tracks and its line."""

    def __init__(self, lane: Lane, scale: float, size: tuple[int, int], reach: float) -> None:
        self.name = lane.name
        p1, p2 = (np.array(p, np.float64) / scale for p in lane.line)
        fwd = np.array(lane.forward, np.float64) / math.hypot(*lane.forward)
        corners = np.round([p1 - reach * fwd, p2 - reach * fwd, p2 + reach * fwd, p1 + reach * fwd])
        lo = np.clip(corners.min(axis=0), 0, size).astype(int)
        hi = np.clip(corners.max(axis=0) + 1, 0, size).astype(int)
        self.rect = (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))  # x0, y0, x1, y1 in the frame
        w, h = (hi - lo).tolist()
        self.mask: np.ndarray | None = None
        if w and h:  # else the line lies outside the picture
            mask = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(mask, (corners - lo).astype(np.int32), 255)
            self.mask = None if cv2.countNonZero(mask) == w * h else mask
        (ax, ay), (bx, by), (fx, fy) = (p1 - lo).tolist(), (p2 - lo).tolist(), fwd.tolist()
        self.line = _Line((ax, ay), (bx, by), (fx, fy), lane.forward_name, lane.backward_name)
        self.tracks: list[Track] = []

    def offset(self, origin: tuple[int, int]) -> None:
        """Make ``rect`` relative to the analysed region's corner."""
        x0, y0, x1, y1 = self.rect
        self.rect = (x0 - origin[0], y0 - origin[1], x1 - origin[0], y1 - origin[1])

    def blobs(self, fg: np.ndarray, min_area: float) -> list[tuple[float, float, tuple[int, int, int, int]]]:
        x0, y0, x1, y1 = self.rect
        sub = fg[y0:y1, x0:x1]
        if sub.size == 0:  # a line drawn outside the picture
            return []
        if self.mask is not None:
            sub = cv2.bitwise_and(sub, self.mask)
        # Grana's algorithm: the default one costs ~5× more per call in OpenCV 5 for the same labels.
        n, _, stats, cents = cv2.connectedComponentsWithStatsWithAlgorithm(sub, 8, cv2.CV_16U, cv2.CCL_GRANA)
        keep = np.flatnonzero(stats[1:n, cv2.CC_STAT_AREA] >= min_area) + 1
        return [(float(cents[i, 0]), float(cents[i, 1]), tuple(int(v) for v in stats[i, :4])) for i in keep]

    def track(
        self, blobs: list[tuple[float, float, tuple[int, int, int, int]]], max_jump: float
    ) -> list[str]:
        """Match blobs to tracks; returns the direction of each track that crossed the line now."""
        # Greedy nearest matching on predicted positions: a lane holds a few vehicles at a time.
        pairs = sorted(
            (math.hypot(bx - px, by - py), ti, bi)
            for ti, (px, py) in enumerate(t.predicted() for t in self.tracks)
            for bi, (bx, by, _) in enumerate(blobs)
        )
        used_t: set[int] = set()
        used_b: set[int] = set()
        crossings: list[str] = []
        for dist, ti, bi in pairs:
            if dist > max_jump or ti in used_t or bi in used_b:
                continue
            used_t.add(ti)
            used_b.add(bi)
            tr = self.tracks[ti]
            bx, by, box = blobs[bi]
            # Between two detections, so a vehicle missed right at the line still counts.
            d = None if tr.counted else self.line.crossed(tr.x, tr.y, bx, by)
            if d is not None:
                tr.counted = True
                crossings.append(d)
            steps = tr.missed + 1
            tr.vx = 0.5 * tr.vx + 0.5 * (bx - tr.x) / steps
            tr.vy = 0.5 * tr.vy + 0.5 * (by - tr.y) / steps
            tr.x, tr.y, tr.box, tr.missed = bx, by, box, 0
        x0, y0, x1, y1 = self.rect
        kept: list[Track] = []
        for ti, tr in enumerate(self.tracks):
            if ti not in used_t:
                tr.missed += 1
                px, py = tr.predicted()
                # A track whose vehicle has left the strip must not take over one entering there.
                if tr.missed > MAX_MISSED or not (0 <= px < x1 - x0 and 0 <= py < y1 - y0):
                    continue
            kept.append(tr)
        kept += [Track(bx, by, box) for bi, (bx, by, box) in enumerate(blobs) if bi not in used_b]
        self.tracks = kept
        return crossings

    def occupied(self) -> set[str]:
        """Directions of the vehicles standing on the line now."""
        found: set[str] = set()
        for tr in self.tracks:
            if not tr.missed and self.line.touches(tr.box):
                d = self.line.direction_of(tr.vx, tr.vy)
                if d is not None:
                    found.add(d)
        return found


class VehicleCounter:
    def __init__(
        self, lanes: list[Lane], scale: float, min_area_px: int, fps: float, size: tuple[int, int]
    ) -> None:
        """``scale``: camera-frame pixels per pixel of the grey frames fed in; ``size``: their (w, h)."""
        slow = max(1.0, 10.0 / fps)  # at a lower analysis rate vehicles move further between frames
        self.lanes = [_LaneCounter(lane, scale, size, STRIP_PX * slow) for lane in lanes]
        self.max_jump = MAX_JUMP_PX * slow
        self.min_area = max(4.0, min_area_px / scale**2)
        # MOG2 runs on the smallest rectangle holding every lane's strip, not on the whole picture.
        rects = [lc.rect for lc in self.lanes if lc.rect[2] > lc.rect[0] and lc.rect[3] > lc.rect[1]]
        x0, y0 = min((r[0] for r in rects), default=0), min((r[1] for r in rects), default=0)
        self.roi = (x0, y0, max((r[2] for r in rects), default=0), max((r[3] for r in rects), default=0))
        for lc in self.lanes:
            lc.offset((x0, y0))
        # history ≈ 10 s: the background follows dusk and clouds, yet a stopped truck takes long to fade.
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=int(10 * fps), varThreshold=25, detectShadows=False
        )
        self._mog.setBackgroundRatio(BACKGROUND_RATIO)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._fg: np.ndarray | None = None
        self._level: float | None = None
        self._norm: np.ndarray | None = None

    def update(self, grey: np.ndarray) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
        """Feed one frame; returns (crossings as (lane, direction), the (lane, direction) pairs whose
        line a vehicle stands on now, for occupancy)."""
        x0, y0, x1, y1 = self.roi
        if x1 <= x0 or y1 <= y0:  # every line outside the picture
            return [], set()
        fg = self._mog.apply(self._steady(grey[y0:y1, x0:x1]))
        cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._kernel, dst=fg)
        cv2.dilate(fg, self._kernel, dst=fg)
        self._fg = fg
        crossings: list[tuple[str, str]] = []
        occupied: set[tuple[str, str]] = set()
        for lc in self.lanes:
            crossings += [(lc.name, d) for d in lc.track(lc.blobs(fg, self.min_area), self.max_jump)]
            occupied |= {(lc.name, d) for d in lc.occupied()}
        return crossings, occupied

    def _steady(self, roi: np.ndarray) -> np.ndarray:
        """The road at the brightness it had at the start: a cloud or the camera's auto-exposure
        changes the whole picture faster than MOG2 may learn (it would turn the road to foreground),
        so the road's own mean, vehicles left out, scales each frame back."""
        mean = cv2.mean(roi, None if self._fg is None else cv2.bitwise_not(self._fg))[0]
        if self._level is None:
            self._level = mean
        if mean <= 0:
            return roi
        gain = min(max(self._level / mean, GAIN_LIMITS[0]), GAIN_LIMITS[1])
        self._norm = cv2.convertScaleAbs(roi, self._norm, alpha=gain)
        return self._norm


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
