"""A camera's ``options:`` (the device entry in a city config, or the file `ioc camera analyze` reads).

Health thresholds default to the starting values in standards.md section 6; each camera is judged
against its own baseline learned in its first ``baseline_s`` of healthy picture.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Point = tuple[float, float]


class HealthThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_s: float = Field(default=5.0, gt=0, le=3600)
    # Mean absolute difference (0–255) between consecutive grey frames below which the picture is still.
    frozen_diff: float = Field(default=0.35, ge=0, le=255)
    black_mean: float = Field(default=10.0, ge=0, le=255)  # covered lens: darker than this …
    black_std: float = Field(default=8.0, ge=0, le=255)  # … and this flat
    over_mean: float = Field(default=245.0, ge=0, le=255)  # overexposed: brighter than this
    # Defocus: sharpness (Laplacian variance ÷ picture variance, so light changes do not count)
    # below this fraction of the baseline's.
    defocus_ratio: float = Field(default=0.4, gt=0, lt=1)
    moved_px: float = Field(default=5.0, gt=0)  # phase-correlation shift, in pixels of the camera frame
    low_light_ratio: float = Field(default=0.45, gt=0, lt=1)  # mean brightness below this × baseline
    # Hysteresis, so the wall does not flicker: a condition must hold this long to raise a state …
    raise_s: float = Field(default=2.0, ge=0, le=600)
    # … and be absent this long to clear it.
    clear_s: float = Field(default=3.0, ge=0, le=600)


class Lane(BaseModel):
    """A virtual counting line across one lane, in pixels of the camera's frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32)
    line: tuple[Point, Point]
    # A screen vector pointing the way of travel counted as ``forward_name`` ([1, 0]: moving right).
    forward: Point = (1.0, 0.0)
    forward_name: str = "forward"
    backward_name: str = "backward"

    @model_validator(mode="after")
    def _usable(self) -> Lane:
        (x1, y1), (x2, y2) = self.line
        if math.hypot(x2 - x1, y2 - y1) < 2:
            raise ValueError("line: the two points must be at least 2 px apart")
        if math.hypot(*self.forward) == 0:
            raise ValueError("forward: must not be [0, 0]")
        # forward must cross the line, else no crossing could ever be told apart.
        if abs((x2 - x1) * self.forward[1] - (y2 - y1) * self.forward[0]) < 1e-6:
            raise ValueError("forward: runs along the line; it must point across it")
        if self.forward_name == self.backward_name:
            raise ValueError("forward_name and backward_name must differ")
        return self


class SnapshotOptions(BaseModel):
    """The JPEG kept for each state-change event (edge/camera/events.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep: int = Field(default=50, ge=1, le=10000)  # newest per camera on the gateway's disk
    width: int = Field(default=640, ge=64, le=3840)  # larger frames are scaled down to this
    quality: int = Field(default=80, ge=10, le=100)  # JPEG quality: ~30 kB for a 640×360 street


class CameraOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # rtsp://…, http://… (MJPEG), a file path, or a USB device (/dev/video0 or its index "0").
    # When empty, the device's ``port`` is used.
    url: str = ""
    fps: float = Field(default=10.0, gt=0, le=60)  # analysis rate; extra frames are grabbed, not analysed
    health_interval_s: float = Field(default=10.0, ge=1, le=3600)
    flow_interval_s: int = Field(default=60, ge=1, le=86400)
    open_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_backoff_s: float = Field(default=60.0, ge=1, le=3600)
    # Play a file at its own frame rate and from the start again at its end (simulated cameras).
    loop: bool = False
    health: HealthThresholds = HealthThresholds()
    snapshots: SnapshotOptions = SnapshotOptions()
    lanes: list[Lane] = Field(default_factory=list)
    min_vehicle_px: int = Field(default=120, ge=1)  # blob area in camera pixels below which it is noise

    @field_validator("lanes")
    @classmethod
    def _unique_lanes(cls, lanes: list[Lane]) -> list[Lane]:
        names = [lane.name for lane in lanes]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"lane names must be unique; repeated: {', '.join(dup)}")
        return lanes


class OptionsFileError(ValueError):
    """A camera options file that cannot be used; the message names the file, field and reason."""


def load_options(path: Path) -> CameraOptions:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OptionsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise OptionsFileError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OptionsFileError(f"{path}: expected a mapping of camera options, found {type(data).__name__}")
    try:
        return CameraOptions.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        ]
        raise OptionsFileError("\n".join(problems)) from None
