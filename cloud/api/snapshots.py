"""Camera snapshots on disk: ``<snapshots>/<device>/<time_ns>.jpg``, the newest N per camera.

Files, not SQLite blobs: a wall reads the latest picture often, and a file is served by the OS
without passing through the state database's lock.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from cloud.api.models import SnapshotOut, from_ns

JPEG_START = b"\xff\xd8\xff"  # SOI marker, then the first segment's marker
JPEG_END = b"\xff\xd9"  # EOI; some encoders pad after it, hence the search in the tail
_TAIL = 64


class NotJpeg(ValueError):
    pass


def check_jpeg(data: bytes) -> None:
    if not data:
        raise NotJpeg("empty body: expected a JPEG image")
    if not data.startswith(JPEG_START):
        raise NotJpeg(f"not a JPEG: it starts with {data[:4].hex(' ')}, a JPEG with ff d8 ff")
    if JPEG_END not in data[-_TAIL:]:
        raise NotJpeg("truncated JPEG: no end-of-image marker (ff d9) at the end")


class SnapshotStore:
    def __init__(self, root: Path, keep: int) -> None:
        self.root = Path(root)
        self.keep = keep
        self._lock = threading.Lock()

    def _dir(self, device: str) -> Path:
        return self.root / device  # device ids are checked against the registry first

    def _ids(self, device: str) -> list[int]:
        folder = self._dir(device)
        if not folder.is_dir():
            return []
        return sorted((int(p.stem) for p in folder.glob("*.jpg") if p.stem.isdigit()), reverse=True)

    def save(self, device: str, data: bytes) -> SnapshotOut:
        check_jpeg(data)
        folder = self._dir(device)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            snap_id = time.time_ns()
            existing = self._ids(device)
            if existing and snap_id <= existing[0]:
                snap_id = existing[0] + 1  # two uploads in one clock tick, or a clock stepped back
            tmp = folder / f".{snap_id}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, folder / f"{snap_id}.jpg")  # readers see the whole picture or none
            for old in self._ids(device)[self.keep :]:
                (folder / f"{old}.jpg").unlink(missing_ok=True)
        return SnapshotOut(id=snap_id, time=from_ns(snap_id), bytes=len(data))

    def list(self, device: str) -> list[SnapshotOut]:
        """Newest first."""
        out = []
        for snap_id in self._ids(device):
            try:
                size = (self._dir(device) / f"{snap_id}.jpg").stat().st_size
            except FileNotFoundError:
                continue  # pruned meanwhile
            out.append(SnapshotOut(id=snap_id, time=from_ns(snap_id), bytes=size))
        return out

    def path(self, device: str, snap_id: int | None = None) -> Path | None:
        """The file of one snapshot, or of the latest when ``snap_id`` is None."""
        if snap_id is None:
            ids = self._ids(device)
            if not ids:
                return None
            snap_id = ids[0]
        path = self._dir(device) / f"{snap_id}.jpg"
        return path if path.is_file() else None
