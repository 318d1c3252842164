"""Camera state-change events and the bounded local store of their JPEG snapshots.

Layout: ``<root>/<device>/<time_ns>.jpg`` waits for upload; once the cloud has it, it is renamed
``<time_ns>.sent.jpg`` and stays for the local status page. Only the newest ``keep`` per camera
stay, sent or not; an unsent one pruned is counted, since it is a picture the cloud never gets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

SNAPSHOT_WIDTH = 640  # the wall's tile and an operator's glance; a 4K frame would be ~1 MB each
JPEG_QUALITY = 80
_DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # a folder name that cannot climb out
SENT = ".sent"


@dataclass(frozen=True)
class CameraEvent:
    device: str
    time_ns: int
    state: str
    previous: str | None  # None: the first state known since the source started
    snapshot: str | None = None  # file name in the store (``<time_ns>.jpg``); None for "offline"

    def to_json(self) -> bytes:
        """The payload for MQTT ``events``."""
        return json.dumps({"type": "camera_state", **asdict(self)}, separators=(",", ":")).encode()


@dataclass(frozen=True)
class StoredSnapshot:
    device: str
    time_ns: int
    path: Path
    sent: bool


def encode_snapshot(frame: np.ndarray, width: int = SNAPSHOT_WIDTH, quality: int = JPEG_QUALITY) -> bytes:
    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return jpeg.tobytes()


class SnapshotStore:
    """One folder for every camera of a gateway (and its uploader); each camera's ``keep``,
    width and quality come with its save, from its own options."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.pruned = 0  # snapshots deleted to stay within ``keep``
        self.pruned_unsent = 0  # … of which the cloud never got a copy
        self.failed = 0  # snapshots that could not be written (disk full, read-only)
        self.added = threading.Event()  # set on each save: the uploader wakes instead of polling
        self._lock = threading.Lock()

    def _folder(self, device: str) -> Path:
        if not _DEVICE.match(device):
            raise ValueError(f"device id {device!r} cannot name a snapshot folder")
        return self.root / device

    def save(
        self,
        device: str,
        frame: np.ndarray,
        time_ns: int,
        keep: int = 50,
        width: int = SNAPSHOT_WIDTH,
        quality: int = JPEG_QUALITY,
    ) -> str | None:
        """Writes the frame as a JPEG; returns its file name, or None (counted) when it cannot."""
        try:
            data = encode_snapshot(frame, width, quality)
            folder = self._folder(device)
            with self._lock:
                folder.mkdir(parents=True, exist_ok=True)
                stamps = {s.time_ns for s in self._list(device)}
                while time_ns in stamps:  # two events in one clock tick keep both pictures
                    time_ns += 1
                name = f"{time_ns}.jpg"
                tmp = folder / f".{name}.tmp"
                tmp.write_bytes(data)
                os.replace(tmp, folder / name)  # the uploader sees the whole picture or none
                self._prune(device, max(1, keep))
        except (OSError, ValueError) as exc:
            self.failed += 1
            log.warning("camera %s: snapshot not stored: %s", device, exc)
            return None
        self.added.set()
        return name

    def _list(self, device: str) -> list[StoredSnapshot]:
        folder = self.root / device
        found = []
        for path in folder.glob("*.jpg") if folder.is_dir() else ():
            stem, sent = (path.stem[: -len(SENT)], True) if path.stem.endswith(SENT) else (path.stem, False)
            if stem.isdigit():
                found.append(StoredSnapshot(device, int(stem), path, sent))
        return sorted(found, key=lambda s: s.time_ns)

    def _prune(self, device: str, keep: int) -> None:
        snaps = self._list(device)
        for old in snaps[: max(0, len(snaps) - keep)]:
            old.path.unlink(missing_ok=True)
            self.pruned += 1
            self.pruned_unsent += not old.sent

    def devices(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _DEVICE.match(p.name))

    def snapshots(self, device: str) -> list[StoredSnapshot]:
        """Oldest first."""
        with self._lock:
            return self._list(device)

    def pending(self) -> list[StoredSnapshot]:
        """Not yet in the cloud, oldest first across cameras (events reach the wall in order)."""
        waiting = [s for d in self.devices() for s in self.snapshots(d) if not s.sent]
        return sorted(waiting, key=lambda s: s.time_ns)

    def mark_sent(self, snap: StoredSnapshot) -> None:
        # Pruned meanwhile: nothing left to mark.
        with self._lock, contextlib.suppress(FileNotFoundError):
            os.replace(snap.path, snap.path.with_name(f"{snap.time_ns}{SENT}.jpg"))

    def discard(self, snap: StoredSnapshot) -> None:
        """A snapshot the cloud refuses for good (too big, not a JPEG): keeping it would block the queue."""
        with self._lock:
            snap.path.unlink(missing_ok=True)
