"""A live camera as a ``firmware_bridge.registry.Source``: OpenCV capture (RTSP over TCP, HTTP MJPEG,
files, USB), analysis at a configured rate, a stall watchdog and capped reconnect backoff.

Emits ``camera_health`` every ``health_interval_s`` and ``traffic_flow`` per lane, direction and
interval. Reconnects are handled here rather than by raising, so the wall sees ``offline`` with a
reconnect count while the stream is down.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import cv2

from edge.camera.analyzer import FrameAnalyzer
from edge.camera.counting import FlowInterval
from edge.camera.options import CameraOptions
from firmware_bridge.registry import Sample

# FFmpeg's RTSP default is UDP, which loses packets on gateway uplinks; read before the first capture.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


FIRST_REPORT_S = 2.0  # the first health report after a stream opens


def flow_samples(flow: FlowInterval, t0_ns: int = 0) -> list[Sample]:
    """``traffic_flow`` rows for one interval; ``t0_ns`` + the interval start is the point's time."""
    return [
        Sample(
            {
                "intensity": flow.counts[key],
                "occupancy": round(flow.occupancy[key], 2),
                "interval_s": flow.interval_s,
            },
            measurement="traffic_flow",
            tags={"lane": key[0], "direction": key[1]},
            time_ns=t0_ns + int(flow.start_s * 1e9),
        )
        for key in flow.counts
    ]


def open_capture(url: str, open_timeout_s: float, read_timeout_s: float) -> cv2.VideoCapture:
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(read_timeout_s * 1000),
    ]
    if url.isdigit():  # a USB camera by index
        return cv2.VideoCapture(int(url), cv2.CAP_ANY, params)
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG if not url.startswith("/dev/video") else cv2.CAP_ANY, params)


class CameraSource:
    def __init__(self, options: CameraOptions, url: str | None = None) -> None:
        self.options = options
        self.url = options.url or url or ""
        if not self.url:
            raise ValueError("camera: set options.url or the device's port")
        self.analyzer = FrameAnalyzer(options)
        self.reconnects = 0
        self.stall_s = max(2.0 / options.fps, 2.0)
        self._grabbed = self._processed = self._skipped = 0
        self._last_report = time.monotonic()

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        backoff = 1.0
        next_health = time.monotonic() + self.options.health_interval_s
        first = True
        while not stop.is_set():
            cap = open_capture(self.url, self.options.open_timeout_s, self.stall_s)
            if not cap.isOpened():
                # Reported, then retried after a capped, doubling wait: never a hot loop.
                self.analyzer.offline(time.monotonic())
                next_health = self._health(emit, online=False, force=True, next_at=next_health)
                stop.wait(backoff)
                backoff = min(backoff * 2, self.options.max_backoff_s)
                if not first:
                    self.reconnects += 1
                continue
            first = False
            # Say "online" soon after a (re)connect instead of a whole interval later.
            next_health = min(next_health, time.monotonic() + FIRST_REPORT_S)
            ended = self._stream(cap, emit, stop, next_health)
            cap.release()
            next_health = ended
            if not stop.is_set() and not self.options.loop:
                self.reconnects += 1
                stop.wait(backoff)
                backoff = min(backoff * 2, self.options.max_backoff_s)
            else:
                backoff = 1.0

    def _stream(
        self, cap: cv2.VideoCapture, emit: Callable[[Sample], None], stop: threading.Event, next_health: float
    ) -> float:
        period = 1.0 / self.options.fps
        native = cap.get(cv2.CAP_PROP_FPS) or 25.0
        pace = self.options.loop  # a file plays at its own rate, as a camera would send it
        start = last_frame = time.monotonic()
        last_processed = -1e9
        frames = 0
        t0_ns = time.time_ns() - int(start * 1e9)
        while not stop.is_set():
            if pace:
                time.sleep(max(0.0, start + frames / native - time.monotonic()))
            if not cap.grab():
                if time.monotonic() - last_frame > self.stall_s or not pace:
                    break  # end of a file, or the watchdog: no frame for max(2/fps, 2 s)
                continue
            frames += 1
            now = last_frame = time.monotonic()
            self._grabbed += 1
            if now - last_processed >= period * 0.95:
                ok, frame = cap.retrieve()
                if ok:
                    last_processed = now
                    self._processed += 1
                    for flow in self.analyzer.process(frame, now).flows:
                        for s in flow_samples(flow, t0_ns):
                            emit(s)
            else:
                self._skipped += 1  # grabbed (FFmpeg decodes for the next frames) but not converted
            next_health = self._health(emit, online=True, force=False, next_at=next_health)
        return next_health

    def _health(self, emit: Callable[[Sample], None], online: bool, force: bool, next_at: float) -> float:
        now = time.monotonic()
        if now < next_at and not force:
            return next_at
        span = max(now - self._last_report, 1e-3)  # the rates cover exactly the time since the last report
        self._last_report = now
        emit(
            Sample(
                {
                    "state": self.analyzer.state if online else "offline",
                    "online": online,
                    "camera_fps": round(self._grabbed / span, 2),
                    "process_fps": round(self._processed / span, 2),
                    "skipped_fps": round(self._skipped / span, 2),
                    "reconnects": self.reconnects,
                },
                measurement="camera_health",
            )
        )
        self._grabbed = self._processed = self._skipped = 0
        return now + span
