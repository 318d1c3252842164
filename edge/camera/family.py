"""The `camera` device family: the live pipeline as a Source, and a simulated camera that plays a
generated road clip (vehicles in two lanes, both directions) for the demo and the tests."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from edge.camera.events import SnapshotStore
from edge.camera.options import CameraOptions
from edge.camera.source import CameraSource
from firmware_bridge.registry import DeviceContext, DeviceFamily, register
from ioc.reading import FieldValue

_STORES: dict[Path, SnapshotStore] = {}
_STORES_LOCK = threading.Lock()


def gateway_snapshots(folder: Path) -> SnapshotStore:
    """The store of event snapshots of every camera sharing ``folder`` (a gateway's ``shared_dir``),
    which its one uploader sends. One instance per folder in the process, so that a save wakes the
    uploader at once and saves and prunes share one lock: a source is made anew on every reconnect
    and config change, the store is not."""
    root = (folder / "snapshots").resolve()
    with _STORES_LOCK:
        return _STORES.setdefault(root, SnapshotStore(root))


def new_source(ctx: DeviceContext) -> CameraSource:
    options: CameraOptions = ctx.options
    url = options.url or ctx.port or ""
    if url and Path(url).is_file():
        # A file as a camera is a replay or a simulation: play it on and on, like a live stream.
        options = options.model_copy(update={"loop": True})
    publish = ctx.publish_event
    return CameraSource(
        options,
        ctx.port,
        device=ctx.device_id,
        snapshots=gateway_snapshots(ctx.shared_dir or ctx.state_dir),
        on_event=(lambda event: publish(event.to_json())) if publish else None,
    )


class CameraSimulator:
    """A generated 30-s road clip (H.264, 640×360, 10 fps) that the camera source loops; ``port``
    is the clip's path. ``emitted`` holds the clip's ground truth: one entry per vehicle."""

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        duration_s: float = 30.0,
        per_lane: int = 6,
        fault: str | None = None,
    ) -> None:
        from edge.camera.media import make_clip  # numpy, OpenCV and ffmpeg only when simulating

        self._folder = Path(tempfile.mkdtemp(prefix="camera-sim-"))
        clip = make_clip(
            self._folder,
            "road",
            duration_s,
            per_lane,
            fault=fault,
            onset_s=duration_s / 2 if fault else None,
            seed=seed or 1,
        )
        self.port = str(clip.path)
        now = time.time_ns()
        self.emitted: list[tuple[int, dict[str, FieldValue]]] = [
            (now, {"lane": v.lane, "direction": v.direction}) for v in clip.vehicles
        ]

    def start(self) -> None:
        """Nothing runs: the camera source plays the file."""

    def stop(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


FAMILY = register(
    DeviceFamily(
        name="camera",
        measurement="camera_health",
        description="IP, USB or file camera through OpenCV: stream health, motion, vehicle counts per lane",
        new_simulator=CameraSimulator,
        transport="camera",
        new_source=new_source,
        options=CameraOptions,
        demo_kwargs={"duration_s": 30.0, "per_lane": 6},
    )
)
