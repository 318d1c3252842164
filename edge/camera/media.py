"""Generated camera clips with ground truth (test material, and the demo's simulated cameras):
a two-lane road seen from above, vehicles of several sizes
and speeds crossing it in both directions, and one fault per clip (freeze, cover, defocus, shift,
lighting ramp, glare). Encoded with Debian's ffmpeg/x264 like the H.264 a real camera sends."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 10
COUNT_X = 320  # where the counting lines cross the road
LANES = {"1": (135, 40), "2": (225, 40)}  # lane → (centre y, height of the band vehicles use)
SIZES = [(22, 12), (34, 16), (52, 24), (90, 32)]  # motorbike, small car, car, truck (w, h)
GAP = 30  # px kept between two vehicles of one lane at every frame, as drivers keep a distance

CAMERA_CONFIG = {
    "fps": 10,
    "health_interval_s": 5,
    "flow_interval_s": 10,
    "lanes": [
        {"name": "1", "line": [[COUNT_X, 105], [COUNT_X, 165]], "forward": [1, 0]},
        {"name": "2", "line": [[COUNT_X, 195], [COUNT_X, 255]], "forward": [1, 0]},
    ],
}


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
    """Vehicles placed at random, rejecting any that would come within GAP of another in its lane,
    so every vehicle is a separate blob at the line (the tracker, not the generator, is under test)."""
    rng = random.Random(seed)
    vehicles: list[Vehicle] = []
    for lane, (cy, _band) in LANES.items():
        placed = 0
        for _ in range(per_lane * 200):
            if placed == per_lane:
                break
            w, h = rng.choice(SIZES)
            speed = rng.uniform(6, 24) * rng.choice((1, -1))
            v = Vehicle(lane, rng.randrange(first, frames), speed, w, h, cy + rng.randint(-3, 3), _shade(rng))
            if v.crossing_frame() > frames - 3 or any(_clash(v, o) for o in vehicles if o.lane == lane):
                continue
            vehicles.append(v)
            placed += 1
    return vehicles


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


def render(vehicles: list[Vehicle], frames: int, seed: int = 5) -> Iterator[np.ndarray]:
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
        noise = rng.normal(0, 2.5, img.shape)  # sensor noise: a live picture is never bit-identical
        yield np.clip(img + noise, 0, 255).astype(np.uint8)


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
) -> Clip:
    frames = int(duration_s * FPS)
    vehicles = schedule(seed, frames, per_lane)
    effect = _fault_effect(fault, onset_s or 0.0, end_s) if fault else None

    def stream() -> Iterator[np.ndarray]:
        held = None
        for f, img in enumerate(render(vehicles, frames, seed)):
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
