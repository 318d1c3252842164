"""Generated camera clips with ground truth (test material, and the demo's simulated cameras):
a two-lane road seen from above, vehicles of several sizes and speeds crossing it in both
directions, close following in a lane, vehicles of both lanes crossing the counting lines at the same
moment, optional lighting ramps, and one fault per clip (freeze, cover, defocus, shift, low light,
glare). Encoded with Debian's ffmpeg/x264 like the H.264 a real camera sends."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 10
COUNT_X = 320  # where the counting lines cross the road
# lane → (centre y, height of the band vehicles use): the band stays inside the lane's counting line,
# which the pilot cities' configs fix at centre ± 30 px.
LANES = {"1": (135, 56), "2": (225, 56)}
SIZES = [(22, 12), (34, 16), (52, 24), (90, 32)]  # motorbike, small car, car, truck (w, h)
SPEEDS = (4.0, 24.0)  # px per frame at 10 fps: about 12 to 75 km/h at this scale (a car is 4.5 m)
# Bumper-to-bumper distance kept at every frame between two vehicles of one lane: about 1 m, as
# motorbikes and cars follow in Vietnamese city traffic.
GAP = 12
# Share of lane-2 vehicles timed to cross the line in the same frame as a lane-1 vehicle.
SIDE_BY_SIDE = 0.3

CAMERA_CONFIG = {
    "fps": 10,
    "health_interval_s": 5,
    "flow_interval_s": 10,
    "lanes": [
        {"name": "1", "line": [[COUNT_X, 105], [COUNT_X, 165]], "forward": [1, 0]},
        {"name": "2", "line": [[COUNT_X, 195], [COUNT_X, 255]], "forward": [1, 0]},
    ],
}

# A lighting ramp: (time s, gain) keyframes, linear in between; 1.0 is the baseline light.
Lighting = Sequence[tuple[float, float]]
# A cloud over the road: the light falls to 55 % (above the low-light alarm at 45 %), holds, then
# the sun comes out brighter than at the start.
CLOUD: Lighting = ((0, 1.0), (8, 1.0), (16, 0.55), (22, 0.55), (30, 1.15), (60, 1.15))


@dataclass(frozen=True)
class Vehicle:
    lane: str
    start: int  # frame it enters
    speed: float  # px per frame; positive = left to right = "forward"
    w: int
    h: int
    y: int
    shade: tuple[int, int, int]

    @property
    def direction(self) -> str:
        return "forward" if self.speed > 0 else "backward"

    def x(self, frame: int) -> float:
        """Centre x at ``frame``: enters fully outside the picture."""
        x0 = -self.w / 2 if self.speed > 0 else WIDTH + self.w / 2
        return x0 + self.speed * (frame - self.start)

    def frames(self) -> range:
        return range(self.start, self.start + int((WIDTH + self.w) / abs(self.speed)) + 2)

    def crossing_frame(self) -> float:
        x0 = self.x(self.start)
        return self.start + (COUNT_X - x0) / self.speed


@dataclass
class Clip:
    path: Path
    duration_s: float
    vehicles: list[Vehicle]
    fault: str | None = None
    onset_s: float | None = None
    end_s: float | None = None  # when the picture is healthy again (None: stays faulty)
    truth: dict[tuple[str, str], int] = field(default_factory=dict)


def schedule(seed: int, frames: int, per_lane: int, first: int = 25) -> list[Vehicle]:
    """Vehicles placed at random, rejecting any that would come within GAP of another in its lane
    (drivers keep a distance, and none drives through another, so a lane's two directions take
    turns); some lane-2 vehicles are timed to cross the line together with a lane-1 vehicle."""
    rng = random.Random(seed)
    vehicles: list[Vehicle] = []
    for lane in LANES:
        for k in range(per_lane):
            sign = 1 if k % 2 else -1  # directions take turns, so neither fills the lane first
            for _ in range(200):
                v = _candidate(rng, lane, sign, range(first, frames), vehicles)
                fits = v.start >= first and v.crossing_frame() <= frames - 3
                if fits and not any(_clash(v, o) for o in vehicles if o.lane == lane):
                    vehicles.append(v)
                    break
    return vehicles


def _candidate(rng: random.Random, lane: str, sign: int, starts: range, placed: list[Vehicle]) -> Vehicle:
    cy, band = LANES[lane]
    w, h = rng.choice(SIZES)
    speed = rng.uniform(*SPEEDS) * sign
    y = cy + rng.randint(-(band - h) // 2, (band - h) // 2)
    start = rng.randrange(starts.start, starts.stop)
    beside = [o for o in placed if o.lane != lane]
    if beside and rng.random() < SIDE_BY_SIDE:
        x0 = -w / 2 if speed > 0 else WIDTH + w / 2
        start = round(rng.choice(beside).crossing_frame() - (COUNT_X - x0) / speed)
    return Vehicle(lane, start, speed, w, h, y, _shade(rng))


def _shade(rng: random.Random) -> tuple[int, int, int]:
    # Road grey is about 100: vehicles are clearly lighter or darker, in colour.
    if rng.random() < 0.5:
        return (rng.randint(170, 255), rng.randint(170, 255), rng.randint(150, 255))
    return (rng.randint(0, 40), rng.randint(0, 40), rng.randint(0, 50))


def _clash(a: Vehicle, b: Vehicle) -> bool:
    return any(abs(a.x(f) - b.x(f)) < (a.w + b.w) / 2 + GAP for f in set(a.frames()) & set(b.frames()))


def background(seed: int = 3) -> np.ndarray:
    """A textured road with lane markings and roadside buildings: structure for focus and shift checks."""
    rng = np.random.default_rng(seed)
    img = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    texture = cv2.GaussianBlur(rng.normal(0, 18, (HEIGHT, WIDTH)).astype(np.float32), (0, 0), 1.2)
    img = np.clip(img + texture[..., None], 0, 255).astype(np.uint8)
    for _ in range(40):  # buildings and trees beside the road
        x, y = int(rng.integers(0, WIDTH)), int(rng.choice([rng.integers(0, 50), rng.integers(285, 330)]))
        colour = tuple(int(c) for c in rng.integers(30, 220, 3))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(15, 60)), y + int(rng.integers(10, 30))), colour, -1)
    for y in (90, 270):
        cv2.line(img, (0, y), (WIDTH, y), (230, 230, 230), 3)
    for x in range(0, WIDTH, 40):
        cv2.line(img, (x, 180), (x + 20, 180), (230, 230, 230), 2)
    return img


def gain_at(lighting: Lighting, t: float) -> float:
    times, gains = zip(*lighting, strict=True)
    return float(np.interp(t, times, gains))


def render(
    vehicles: list[Vehicle], frames: int, seed: int = 5, lighting: Lighting | None = None
) -> Iterator[np.ndarray]:
    base = background()
    rng = np.random.default_rng(seed)
    by_frame: dict[int, list[Vehicle]] = {}
    for v in vehicles:
        for f in v.frames():
            by_frame.setdefault(f, []).append(v)
    for f in range(frames):
        img = base.copy()
        for v in by_frame.get(f, []):
            x = v.x(f)
            cv2.rectangle(
                img, (int(x - v.w / 2), v.y - v.h // 2), (int(x + v.w / 2), v.y + v.h // 2), v.shade, -1
            )
        if lighting:
            img = cv2.convertScaleAbs(img, alpha=gain_at(lighting, f / FPS))
        # Sensor noise: a live picture is never bit-identical.
        noise = rng.standard_normal(img.shape, dtype=np.float32) * 2.5
        yield cv2.add(img, noise, dtype=cv2.CV_8U)


Effect = Callable[[np.ndarray, float, np.ndarray | None], np.ndarray]


def _fault_effect(fault: str, onset: float, end: float | None) -> Effect:
    def effect(img: np.ndarray, t: float, held: np.ndarray | None) -> np.ndarray:
        if t < onset or (end is not None and t >= end):
            return img
        if fault == "frozen":
            return held if held is not None else img
        if fault == "covered":
            return np.clip(np.random.default_rng(int(t * 10)).normal(4, 1.5, img.shape), 0, 255).astype(
                np.uint8
            )
        if fault == "overexposed":
            return np.clip(img.astype(np.int16) // 8 + 248, 0, 255).astype(np.uint8)
        if fault == "defocused":
            return cv2.GaussianBlur(img, (0, 0), 5)
        if fault == "moved":
            m = np.float32([[1, 0, 28], [0, 1, 14]])
            return cv2.warpAffine(img, m, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REPLICATE)
        if fault == "low_light":  # dusk without IR: 8 s ramp down to a fifth of the light, then held
            gain = max(0.2, 1 - 0.8 * (t - onset) / 8)
            return (img * gain).astype(np.uint8)
        raise ValueError(fault)

    return effect


def encode(frames: Iterator[np.ndarray], path: Path, fps: int = FPS) -> None:
    """H.264 in MP4 through ffmpeg/x264, as a camera's main or sub stream would be."""
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"]
    cmd += ["-s", f"{WIDTH}x{HEIGHT}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast"]
    cmd += ["-crf", "23", "-g", str(2 * fps), "-pix_fmt", "yuv420p", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for img in frames:
        proc.stdin.write(img.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed encoding {path}")


def make_clip(
    folder: Path,
    name: str,
    duration_s: float,
    per_lane: int,
    fault: str | None = None,
    onset_s: float | None = None,
    end_s: float | None = None,
    seed: int = 1,
    lighting: Lighting | None = None,
) -> Clip:
    frames = int(duration_s * FPS)
    vehicles = schedule(seed, frames, per_lane)
    effect = _fault_effect(fault, onset_s or 0.0, end_s) if fault else None

    def stream() -> Iterator[np.ndarray]:
        held = None
        for f, img in enumerate(render(vehicles, frames, seed, lighting)):
            t = f / FPS
            if effect is None:
                yield img
                continue
            if fault == "frozen" and held is None and onset_s is not None and t >= onset_s:
                held = img
            yield effect(img, t, held)

    path = folder / f"{name}.mp4"
    encode(stream(), path)
    truth: dict[tuple[str, str], int] = {}
    for v in vehicles:
        truth[(v.lane, v.direction)] = truth.get((v.lane, v.direction), 0) + 1
    return Clip(path, duration_s, vehicles, fault, onset_s, end_s, truth)
