"""The live CameraSource on a looped clip and on a stream that never opens."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.camera.events import CameraEvent, SnapshotStore
from edge.camera.media import CAMERA_CONFIG, make_clip
from edge.camera.options import CameraOptions
from edge.camera.source import CameraSource
from firmware_bridge.registry import Sample

pytestmark = pytest.mark.timeout(60)


def _run_until(source: CameraSource, count: int) -> list[Sample]:
    samples: list[Sample] = []
    stop = threading.Event()

    def emit(sample: Sample) -> None:
        samples.append(sample)
        if sum(s.measurement == "camera_health" for s in samples) >= count:
            stop.set()

    thread = threading.Thread(target=source.run, args=(emit, stop), daemon=True)
    thread.start()
    thread.join(30)
    stop.set()
    return samples


def test_looped_clip_reports_online_health(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, "live", 3, 2, seed=3)
    options = CameraOptions.model_validate({**CAMERA_CONFIG, "health_interval_s": 1, "loop": True})
    source = CameraSource(options, str(clip.path))
    samples = _run_until(source, 5)  # over 4 s of a 3-s clip: it has looped at least once
    health = [s for s in samples if s.measurement == "camera_health"]
    assert health and all(s.fields["online"] is True for s in health)
    assert set(health[-1].fields) == {
        "state",
        "online",
        "camera_fps",
        "process_fps",
        "skipped_fps",
        "reconnects",
        "motion",
    }
    assert 0 <= float(health[-1].fields["motion"]) <= 100
    assert all(s.fields["reconnects"] == 0 for s in health), "a file's replay is not a reconnect"


def test_stream_that_never_opens_is_reported_offline(tmp_path: Path) -> None:
    options = CameraOptions.model_validate({"health_interval_s": 1, "open_timeout_s": 1, "max_backoff_s": 2})
    events: list[CameraEvent] = []
    source = CameraSource(options, str(tmp_path / "missing.mp4"), device="cam01", on_event=events.append)
    health = [s for s in _run_until(source, 4) if s.measurement == "camera_health"]
    assert [s.fields["state"] for s in health] == ["offline"] * len(health)
    assert all(s.fields["online"] is False for s in health)
    # Retried, and each retry counted, but after a doubling wait: 1 s, then 2 s, not a hot loop.
    reconnects = [int(s.fields["reconnects"]) for s in health]
    assert reconnects == sorted(reconnects) and 0 < reconnects[-1] < len(health)
    assert [(e.state, e.previous, e.snapshot) for e in events] == [("offline", None, None)]


def test_snapshots_need_a_device_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="device id"):
        CameraSource(CameraOptions(), "rtsp://x", snapshots=SnapshotStore(tmp_path))


def test_snapshot_options_are_checked() -> None:
    assert CameraOptions.model_validate({"snapshots": {"keep": 5}}).snapshots.keep == 5
    for bad in ({"keep": 0}, {"quality": 101}, {"kept": 5}):
        with pytest.raises(ValidationError):
            CameraOptions.model_validate({"snapshots": bad})
