"""Camera analysis cost: frames analysed per second on one core at 640×360 from an H.264 clip (decode,
health, motion and counting included), and how many 10-fps cameras that core sustains (target ≥ 30)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cv2

from bench.results import Figure

CAMERA_FPS = 10


def run(root: Path) -> list[Figure]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from edge.camera.analyzer import FrameAnalyzer
    from edge.camera.media import CAMERA_CONFIG, make_clip
    from edge.camera.options import CameraOptions

    root.mkdir(parents=True, exist_ok=True)
    clip = make_clip(root, "bench", 30, 30, seed=1)
    cv2.setNumThreads(1)  # one core: FFmpeg's and OpenCV's own thread pools would hide the per-core cost
    os.environ["OPENCV_FFMPEG_THREADS"] = "1"
    options = CameraOptions.model_validate(CAMERA_CONFIG)
    frames = 0
    analysis_s = 0.0
    started = time.process_time()
    for _ in range(3):
        cap = cv2.VideoCapture(str(clip.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        analyzer = FrameAnalyzer(options)
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            t0 = time.process_time()
            analyzer.process(frame, frames / CAMERA_FPS)
            analysis_s += time.process_time() - t0
            frames += 1
        cap.release()
    cpu_s = time.process_time() - started  # CPU time, so the figure is per core even if threads ran
    rate = frames / cpu_s
    return [
        Figure("camera_frames_per_core", rate, "frames/s", "640×360 H.264 (x264) clip, decode included"),
        Figure(
            "camera_10fps_per_core",
            rate / CAMERA_FPS,
            "cameras",
            "10-fps cameras one core sustains; target 30",
            ratio=rate / CAMERA_FPS / 30,
        ),
        Figure(
            "camera_analysis_ms", 1000 * analysis_s / frames, "ms/frame", "health + motion + counting only"
        ),
    ]


if __name__ == "__main__":
    for figure in run(Path("var/bench/camera")):
        print(figure)
