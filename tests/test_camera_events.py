"""Camera events and their JPEG snapshots: the bounded local store, the live source writing the frame
behind each state change, and the uploader against the real cloud API (uvicorn, real HTTP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.camera.events import CameraEvent, SnapshotStore, encode_snapshot
from edge.camera.media import make_clip, render, schedule
from edge.camera.options import CameraOptions
from edge.camera.snapshot_upload import SnapshotUploader
from edge.camera.source import CameraSource
from ioc.services import free_port
from tests import cloud_api
from tests.cloud_api import Cloud

pytestmark = pytest.mark.timeout(60)

CITY_YAML = """\
city: {id: tst, name: Thử nghiệm, province: Đắk Lắk}
sites:
  - {id: s1, name: Ngã Sáu, kind: traffic, lat: 12.6675, lon: 108.0383}
gateways:
  - id: gw01
    site: s1
    devices:
      - {id: cam01, family: camera, port: "rtsp://10.0.0.5/stream1"}
      - {id: cam02, family: camera, port: "rtsp://10.0.0.6/stream1"}
"""


def street() -> np.ndarray:
    """A 640×360 frame of the generated road, vehicles included."""
    return next(render(schedule(1, 100, 3), 1))


def noise(shape: tuple[int, int, int] = (360, 640, 3)) -> np.ndarray:
    """Incompressible: a ~150 kB JPEG."""
    return np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)


# --- the local store ---------------------------------------------------------------------------


def test_store_keeps_the_newest_and_counts_what_it_prunes(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    names = [store.save("cam01", street(), t, keep=3) for t in (10, 20, 30)]
    assert names == ["10.jpg", "20.jpg", "30.jpg"]
    store.mark_sent(store.pending()[0])  # 10 is in the cloud
    store.save("cam01", street(), 40, keep=3)
    store.save("cam01", street(), 50, keep=3)
    kept = store.snapshots("cam01")
    assert [(s.time_ns, s.sent) for s in kept] == [(30, False), (40, False), (50, False)]
    assert (store.pruned, store.pruned_unsent) == (2, 1), "10 was sent, 20 never was"
    assert store.save("cam01", street(), 50, keep=3) == "51.jpg", "one clock tick, two pictures"
    assert store.added.is_set()


def test_store_scales_down_and_refuses_a_folder_escape(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    big = cv2.resize(street(), (1920, 1080))
    name = store.save("cam01", big, 1, width=640, quality=80)
    assert name is not None
    picture = cv2.imread(str(tmp_path / "cam01" / name))
    assert picture.shape == (360, 640, 3)
    assert store.save("../etc", big, 2) is None and store.failed == 1
    assert not (tmp_path.parent / "etc").exists()
    assert len(encode_snapshot(street(), quality=80)) < len(encode_snapshot(street(), quality=95))


def test_event_payload_is_json() -> None:
    event = CameraEvent("cam01", 123, "covered", "ok", "123.jpg")
    assert json.loads(event.to_json()) == {
        "type": "camera_state",
        "device": "cam01",
        "time_ns": 123,
        "state": "covered",
        "previous": "ok",
        "snapshot": "123.jpg",
    }


# --- the live source writes the frame behind each change --------------------------------------


def test_live_source_snapshots_the_frame_behind_each_change(tmp_path: Path) -> None:
    # Covered from 3 s to the clip's end; looped, the clean start clears it again. The short clip's
    # empty road is still for seconds once x264 has smoothed its noise, so "frozen" is off here.
    clip = make_clip(tmp_path, "covered", 6, 2, "covered", 3.0, seed=2)
    options = CameraOptions.model_validate(
        {
            "loop": True,
            "health_interval_s": 1,
            "health": {"baseline_s": 1, "raise_s": 1, "clear_s": 1, "frozen_diff": 0},
            "snapshots": {"keep": 5},
        }
    )
    store = SnapshotStore(tmp_path / "snapshots")
    events: list[CameraEvent] = []
    stop = threading.Event()

    def on_event(event: CameraEvent) -> None:
        events.append(event)
        if event.state == "ok":
            stop.set()

    source = CameraSource(options, str(clip.path), device="cam01", snapshots=store, on_event=on_event)
    thread = threading.Thread(target=source.run, args=(lambda _s: None, stop), daemon=True)
    thread.start()
    thread.join(30)
    stop.set()
    assert [(e.state, e.previous) for e in events] == [("covered", "ok"), ("ok", "covered")]
    covered, ok = (
        cv2.imread(str(store.root / "cam01" / str(e.snapshot)), cv2.IMREAD_GRAYSCALE) for e in events
    )
    assert covered.mean() < 20, "the covered lens, not a frame before it"
    assert ok.mean() > 60 and ok.shape == (360, 640)
    assert [s.time_ns for s in store.pending()] == [e.time_ns for e in events]


def test_event_handler_failure_does_not_stop_the_camera(tmp_path: Path) -> None:
    options = CameraOptions.model_validate({"health_interval_s": 1, "open_timeout_s": 1, "max_backoff_s": 1})

    def broken(_event: CameraEvent) -> None:
        raise RuntimeError("publisher down")

    source = CameraSource(options, str(tmp_path / "missing.mp4"), device="cam01", on_event=broken)
    reports: list[dict[str, Any]] = []
    stop = threading.Event()

    def emit(sample: Any) -> None:
        reports.append(sample.fields)
        if len(reports) >= 3:
            stop.set()

    thread = threading.Thread(target=source.run, args=(emit, stop), daemon=True)
    thread.start()
    thread.join(30)
    stop.set()
    assert len(reports) >= 3 and source.event_errors == 1, "one event (startup → offline), reports go on"
    assert reports[-1]["reconnects"] > 0


# --- the uploader against the real cloud API ---------------------------------------------------


@pytest.fixture
def start_cloud(tmp_path: Path) -> Iterator[Callable[..., Cloud]]:
    started: list[Cloud] = []

    def start(port: int | None = None, **overrides: Any) -> Cloud:
        started.append(cloud_api.start_cloud(tmp_path, CITY_YAML, port, **overrides))
        return started[-1]

    yield start
    for cloud in started:
        cloud.stop()


def uploader_for(store: SnapshotStore, url: str, token_file: Path) -> SnapshotUploader:
    return SnapshotUploader(
        store, url, token_file, timeout_s=10, min_backoff_s=0.1, max_backoff_s=0.5, idle_s=0.1, poll_s=0.5
    )


def test_uploads_and_the_wall_downloads_them_back(start_cloud: Callable[..., Cloud], tmp_path: Path) -> None:
    cloud = start_cloud()
    store = SnapshotStore(tmp_path / "edge")
    for t in (1, 2, 3):
        store.save("cam01", street(), t)
    token = tmp_path / "token"
    token.write_text(cloud.upload_token + "\n")
    uploader = uploader_for(store, cloud.url, token)
    assert uploader.upload_pending() is None
    assert uploader.stats.sent == 3 and store.pending() == []
    assert [s.sent for s in store.snapshots("cam01")] == [True, True, True], "kept locally, marked sent"
    listed = json.loads(cloud.get("/api/v1/cameras/cam01/snapshots").data)
    assert len(listed) == 3
    latest = cloud.get("/api/v1/cameras/cam01/snapshots/latest")
    assert latest.status == 200 and latest.headers["content-type"] == "image/jpeg"
    assert latest.data == store.snapshots("cam01")[-1].path.read_bytes()


def test_cloud_outage_is_retried_until_it_is_back(start_cloud: Callable[..., Cloud], tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet
    store = SnapshotStore(tmp_path / "edge")
    store.save("cam01", street(), 1)
    store.save("cam01", street(), 2)
    token = tmp_path / "token"
    uploader = uploader_for(store, f"http://127.0.0.1:{port}", token)
    token.write_text("not yet issued")
    waits = [uploader.upload_pending() for _ in range(4)]
    assert all(w is not None and 0 < w <= 0.5 for w in waits), waits
    assert uploader.stats.retried["network"] == 4 and len(store.pending()) == 2

    # The cloud answers, but fails: a file where its snapshot folder should be makes a real 500.
    cloud = start_cloud(port)
    cloud.settings.snapshots_dir.parent.mkdir(parents=True, exist_ok=True)
    cloud.settings.snapshots_dir.write_text("in the way")
    token.write_text(cloud.upload_token)
    assert uploader.upload_pending() is not None
    assert uploader.stats.retried["500"] == 1 and len(store.pending()) == 2

    cloud.settings.snapshots_dir.unlink()
    assert uploader.upload_pending() is None, uploader.stats
    assert uploader.stats.sent == 2 and store.pending() == []
    assert len(json.loads(cloud.get("/api/v1/cameras/cam01/snapshots").data)) == 2


def test_refusals_are_counted_and_never_block_the_queue(
    start_cloud: Callable[..., Cloud], tmp_path: Path
) -> None:
    cloud = start_cloud(max_snapshot_bytes=100_000)
    store = SnapshotStore(tmp_path / "edge")
    store.save("cam01", street(), 1)
    store.save("cam99", street(), 2)  # a camera the cloud does not know
    store.save("cam01", noise(), 3)  # ~150 kB: over the cloud's limit
    store.save("cam99", street(), 4)
    store.save("cam02", street(), 5)
    token = tmp_path / "token"

    token.write_text("ioc_not-a-real-token")
    uploader = uploader_for(store, cloud.url, token)
    assert uploader.upload_pending() == 0.5
    assert uploader.stats.gave_up == {"401 bad token": 1} and len(store.pending()) == 5

    token.write_text(cloud.read_token)  # an operator may read, not upload
    assert uploader.upload_pending() == 0.5
    assert uploader.stats.gave_up["403 token lacks upload-snapshots"] == 1

    token.unlink()
    assert uploader.upload_pending() == 0.5 and uploader.stats.gave_up["no token"] == 1

    token.write_text(cloud.upload_token)
    assert uploader.upload_pending() == 0.5, "cam99 is held back"
    assert uploader.stats.gave_up["413 too big"] == 1
    assert uploader.stats.gave_up["404 camera unknown to the cloud"] == 1, "asked once, then skipped"
    assert uploader.stats.sent == 2
    assert [s.time_ns for s in store.pending()] == [2, 4], "only the unknown camera's pictures wait"
    assert [s.time_ns for s in store.snapshots("cam01")] == [1], "the refused picture is discarded"
    assert len(json.loads(cloud.get("/api/v1/cameras/cam02/snapshots").data)) == 1


def test_running_uploader_sends_each_new_snapshot(start_cloud: Callable[..., Cloud], tmp_path: Path) -> None:
    cloud = start_cloud()
    store = SnapshotStore(tmp_path / "edge")
    token = tmp_path / "token"
    token.write_text(cloud.upload_token)
    uploader = uploader_for(store, cloud.url, token)
    stop = threading.Event()
    thread = threading.Thread(target=uploader.run, args=(stop,), daemon=True)
    thread.start()
    # The second camera writes through its own store on the same folder: found by the periodic pass.
    other_camera = SnapshotStore(store.root)
    try:
        for t, writer in ((1, store), (2, other_camera)):
            writer.save("cam01", street(), t)
            deadline = time.monotonic() + 15
            while uploader.stats.sent < t and time.monotonic() < deadline:
                time.sleep(0.05)
            assert uploader.stats.sent == t, f"snapshot {t} not uploaded within 15 s"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len(json.loads(cloud.get("/api/v1/cameras/cam01/snapshots").data)) == 2
