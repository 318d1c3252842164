"""The live CameraSource against a real RTSP server (GStreamer's, tests/rtsp_server.py) serving a
generated H.264 clip: the server is killed or frozen mid-stream, the camera must report offline,
count its reconnects, and come back online by itself once the server is back on the same port."""

from __future__ import annotations

import queue
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import pytest

from edge.camera.events import CameraEvent, SnapshotStore
from edge.camera.media import HEIGHT, WIDTH, make_clip
from edge.camera.options import CameraOptions
from edge.camera.source import CameraSource
from firmware_bridge.registry import Sample
from ioc.services import free_port

pytestmark = pytest.mark.timeout(90)

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-gi binds to it, not to the virtual environment
SERVER = Path(__file__).with_name("rtsp_server.py")
MOUNT = "/cam"
PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
CLIP_S = 25  # each RTSP session plays the clip from the start; no phase below lasts this long


def _gst_rtsp_problem() -> str | None:
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import GstRtspServer"
    )
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} cannot run: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"{SYSTEM_PYTHON} cannot import gi's GstRtspServer ({last}): apt-get install {PACKAGES}"
    return None


_PROBLEM = _gst_rtsp_problem()
if _PROBLEM:
    pytestmark = [pytestmark, pytest.mark.skip(reason=_PROBLEM)]


class RtspServer:
    def __init__(self, clip: Path, port: int) -> None:
        self.clip, self.port = clip, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{MOUNT}"

    def start(self, timeout_s: float = 15.0) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), str(self.port), MOUNT, str(self.clip)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            self.kill()
            raise AssertionError(f"RTSP server did not start on port {self.port}: {line!r}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen process must run to die
            self.proc.kill()
        self.proc.wait(10)
        self.proc = None


class Watcher:
    """The camera's health reports as they are emitted, waited for with a bound."""

    def __init__(self) -> None:
        self.reports: queue.Queue[Sample] = queue.Queue()
        self.seen: list[dict[str, object]] = []

    def emit(self, sample: Sample) -> None:
        if sample.measurement == "camera_health":
            self.reports.put(sample)

    def wait_for(self, what: str, check: Callable[[Sample], bool], timeout_s: float) -> Sample:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                sample = self.reports.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(sample.fields)
            if check(sample):
                return sample
        raise AssertionError(f"no health report {what} within {timeout_s} s; saw {self.seen[-5:]}")


def online(s: Sample) -> bool:
    return s.fields["online"] is True and s.fields["state"] == "ok"


def offline(s: Sample) -> bool:
    return s.fields["online"] is False and s.fields["state"] == "offline"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("rtsp"), "street", CLIP_S, 3, seed=3).path


@pytest.fixture
def server(clip: Path) -> Iterator[RtspServer]:
    srv = RtspServer(clip, free_port())
    srv.start()
    yield srv
    srv.kill()


@pytest.fixture
def camera(server: RtspServer, tmp_path: Path) -> Iterator[tuple[CameraSource, Watcher, list[CameraEvent]]]:
    options = CameraOptions.model_validate(
        {"url": server.url, "health_interval_s": 1, "open_timeout_s": 5, "max_backoff_s": 2}
    )
    events: list[CameraEvent] = []
    store = SnapshotStore(tmp_path / "snapshots")
    source = CameraSource(options, device="cam01", snapshots=store, on_event=events.append)
    watcher = Watcher()
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(watcher.emit, stop), daemon=True)
    thread.start()
    yield source, watcher, events
    stop.set()
    thread.join(15)
    assert not thread.is_alive(), "the camera did not stop within 15 s"


def test_server_killed_and_restarted(
    server: RtspServer, camera: tuple[CameraSource, Watcher, list[CameraEvent]]
) -> None:
    source, watcher, events = camera
    first = watcher.wait_for("online", online, 20)
    assert first.fields["camera_fps"] > 0 and first.fields["reconnects"] == 0

    server.kill()
    down = watcher.wait_for("offline after the kill", offline, 10)
    retried = down.fields["reconnects"]
    later = watcher.wait_for(
        "with more reconnects", lambda s: offline(s) and s.fields["reconnects"] > retried, 10
    )
    assert later.fields["camera_fps"] == 0

    server.start()  # the same port: the source was not restarted and must find it by itself
    back = watcher.wait_for("online again", online, 20)
    assert back.fields["reconnects"] > later.fields["reconnects"], "the successful reopen counts too"
    assert source.online and source.state == "ok"

    assert [(e.state, e.previous) for e in events] == [("offline", "ok"), ("ok", "offline")]
    assert events[0].snapshot is None, "no picture when offline"
    assert events[1].snapshot is not None and events[1].device == "cam01"
    picture = cv2.imread(str(source.snapshots.root / "cam01" / events[1].snapshot))  # type: ignore[union-attr]
    assert picture is not None and picture.shape == (HEIGHT, WIDTH, 3)


def test_frozen_server_trips_the_watchdog(
    server: RtspServer, camera: tuple[CameraSource, Watcher, list[CameraEvent]]
) -> None:
    """SIGSTOP: the TCP connection stays up but no packet comes; only the read timeout notices."""
    source, watcher, _ = camera
    watcher.wait_for("online", online, 20)
    server.signal(signal.SIGSTOP)
    try:
        watcher.wait_for("offline while the server is frozen", offline, 10)
    finally:
        server.signal(signal.SIGCONT)
    back = watcher.wait_for("online after the server resumed", online, 20)
    assert back.fields["reconnects"] >= 1 and source.online
