"""The live CameraSource on a looped clip and on a stream that never opens."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

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
    clip = make_clip(tmp_path, "live", 4, 2, seed=3)
    options = CameraOptions.model_validate({**CAMERA_CONFIG, "health_interval_s": 1, "loop": True})
    samples = _run_until(CameraSource(options, str(clip.path)), 2)
    health = [s for s in samples if s.measurement == "camera_health"]
    assert health and all(s.fields["online"] is True for s in health)
    assert set(health[-1].fields) == {
        "state",
        "online",
        "camera_fps",
        "process_fps",
        "skipped_fps",
        "reconnects",
    }


def test_stream_that_never_opens_is_reported_offline(tmp_path: Path) -> None:
    options = CameraOptions.model_validate({"health_interval_s": 1, "open_timeout_s": 1})
    source = CameraSource(options, str(tmp_path / "missing.mp4"))
    health = [s for s in _run_until(source, 2) if s.measurement == "camera_health"]
    assert [s.fields["state"] for s in health][:2] == ["offline", "offline"]
    assert all(s.fields["online"] is False for s in health)
