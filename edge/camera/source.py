"""A live camera as a ``firmware_bridge.registry.Source``: OpenCV capture (RTSP over TCP, HTTP MJPEG,
files, USB), analysis at a configured rate, a stall watchdog and capped reconnect backoff.

Emits ``camera_health`` every ``health_interval_s`` and ``traffic_flow`` per lane, direction and
interval. Reconnects are handled here rather than by raising, so the wall sees ``offline`` with a
reconnect count while the stream is down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from edge.camera.analyzer import FrameAnalyzer
from edge.camera.counting import FlowInterval
from edge.camera.events import CameraEvent, SnapshotStore
from edge.camera.options import CameraOptions
from firmware_bridge.registry import Sample
from ioc.reading import FieldValue

log = logging.getLogger(__name__)

# FFmpeg's RTSP default is UDP, which loses packets on gateway uplinks; read before the first capture.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


FIRST_REPORT_S = 2.0  # the first health report after a stream opens
STABLE_S = 30.0  # a stream that ran this long before dropping is retried at once, backoff reset


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
    """``device`` names the camera in its events and snapshot folder; ``snapshots`` stores a JPEG of
    the frame behind each state change; ``on_event`` receives every change (the agent publishes it on
    MQTT ``events``). It is called on the camera's thread, so it must not block."""

    def __init__(
        self,
        options: CameraOptions,
        url: str | None = None,
        *,
        device: str = "",
        snapshots: SnapshotStore | None = None,
        on_event: Callable[[CameraEvent], None] | None = None,
    ) -> None:
        self.options = options
        self.url = options.url or url or ""
        if not self.url:
            raise ValueError("camera: set options.url or the device's port")
        if snapshots is not None and not device:
            raise ValueError("camera: snapshots need the device id to file them under")
        self.device = device
        self.snapshots = snapshots
        self.on_event = on_event
        self.analyzer = FrameAnalyzer(options)
        self.reconnects = 0
        self.stall_s = max(2.0 / options.fps, 2.0)
        self.online = False
        # What the wall shows: "offline" while no picture arrives, else the picture's health state.
        self.state: str | None = None  # None until the first open succeeds or fails
        self.event_errors = 0  # on_event calls that raised
        self._grabbed = self._processed = self._skipped = 0
        self._motion_sum = 0.0
        self._last_report = time.monotonic()
        self._next_health = self._last_report + options.health_interval_s

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        backoff = 1.0
        retry = False  # the next open is a reconnect (counted), not the first open or a file's replay
        while not stop.is_set():
            if retry:
                self.reconnects += 1
            retry = True
            cap = open_capture(self.url, self.options.open_timeout_s, self.stall_s)
            if not cap.isOpened():
                cap.release()
                # Reported, then retried after a capped, doubling wait: never a hot loop.
                self._set_offline(emit)
                self._wait(backoff, emit, stop)
                backoff = min(backoff * 2, self.options.max_backoff_s)
                continue
            opened = time.monotonic()
            # Say "online" soon after a (re)connect instead of a whole interval later.
            self._next_health = min(self._next_health, opened + FIRST_REPORT_S)
            frames = self._stream(cap, emit, stop)
            cap.release()
            if stop.is_set():
                break
            if self.options.loop and frames:
                retry = False  # a looped file's end: play it again at once, as a camera never stops
                backoff = 1.0
                continue
            self._set_offline(emit)
            if time.monotonic() - opened >= STABLE_S:
                backoff = 1.0  # a long-lived stream that drops is retried at once, then from 1 s
                continue
            self._wait(backoff, emit, stop)
            backoff = min(backoff * 2, self.options.max_backoff_s)

    def _wait(self, seconds: float, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        """Sleep between reconnects, keeping the offline camera's health reports on their interval."""
        until = time.monotonic() + seconds
        while not stop.is_set():
            now = time.monotonic()
            if now >= until:
                return
            if stop.wait(min(until, self._next_health) - now):
                return
            self._health(emit)

    def _stream(self, cap: cv2.VideoCapture, emit: Callable[[Sample], None], stop: threading.Event) -> int:
        period = 1.0 / self.options.fps
        native = cap.get(cv2.CAP_PROP_FPS) or 25.0
        pace = self.options.loop  # a file plays at its own rate, as a camera would send it
        start = time.monotonic()
        last_processed = -1e9
        frames = 0
        t0_ns = time.time_ns() - int(start * 1e9)
        while not stop.is_set():
            if pace:
                time.sleep(max(0.0, start + frames / native - time.monotonic()))
            # The watchdog is the read timeout (stall_s = max(2/fps, 2 s)) set at open: grab fails
            # then, as it does at a file's end or a dropped connection, and the stream is reopened.
            if not cap.grab():
                break
            frames += 1
            now = time.monotonic()
            self._grabbed += 1
            if now - last_processed >= period * 0.95:
                ok, frame = cap.retrieve()
                if ok:
                    last_processed = now
                    self._processed += 1
                    result = self.analyzer.process(frame, now)
                    self._motion_sum += result.motion_pct
                    self.online = True
                    self._set_state(self.analyzer.state, emit, frame)
                    for flow in result.flows:
                        for s in flow_samples(flow, t0_ns):
                            emit(s)
            else:
                self._skipped += 1  # grabbed (FFmpeg decodes for the next frames) but not converted
            if now >= self._next_health:
                self._health(emit)
        return frames

    def _set_offline(self, emit: Callable[[Sample], None]) -> None:
        self.online = False
        self._set_state("offline", emit, None)

    def _set_state(self, state: str, emit: Callable[[Sample], None], frame: np.ndarray | None) -> bool:
        """Records a change of the shown state: an event (with a snapshot of ``frame``) and an
        immediate health report, so the wall need not wait for the interval. True if it changed."""
        if state == self.state:
            return False
        previous, self.state = self.state, state
        if previous is not None or state != "ok":  # starting up healthy is not news
            self._event(state, previous, frame)
        self._health(emit)
        return True

    def _event(self, state: str, previous: str | None, frame: np.ndarray | None) -> None:
        now_ns = time.time_ns()
        snapshot = None
        if frame is not None and self.snapshots is not None:
            snap = self.options.snapshots
            snapshot = self.snapshots.save(self.device, frame, now_ns, snap.keep, snap.width, snap.quality)
        if self.on_event is not None:
            try:
                self.on_event(CameraEvent(self.device, now_ns, state, previous, snapshot))
            except Exception:  # a publisher's fault must not stop the camera
                self.event_errors += 1
                log.exception("camera %s: event handler failed", self.device or self.url)

    def _health(self, emit: Callable[[Sample], None]) -> None:
        now = time.monotonic()
        span = max(now - self._last_report, 1e-3)  # the rates cover exactly the time since the last report
        fields: dict[str, FieldValue] = {
            "state": self.state if self.online and self.state else "offline",
            "online": self.online,
            "camera_fps": round(self._grabbed / span, 2),
            "process_fps": round(self._processed / span, 2),
            "skipped_fps": round(self._skipped / span, 2),
            "reconnects": self.reconnects,
        }
        if self._processed:
            fields["motion"] = round(self._motion_sum / self._processed, 2)
        emit(Sample(fields, measurement="camera_health"))
        self._last_report = now
        self._next_health = now + self.options.health_interval_s
        self._grabbed = self._processed = self._skipped = 0
        self._motion_sum = 0.0
