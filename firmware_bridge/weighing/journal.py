"""The append-only weighing journal (one JSON record a line), durable before a weighing leaves.

Every append takes an exclusive ``flock`` and re-reads the journal's last line, so two processors on
one journal (an in-process reconfigure, a stray second agent) still extend a single chain instead of
forking it. A crash can leave a torn last line; it is moved whole into ``<journal>.corrupt`` (one
JSON line per fragment, with its offset and text) and reported, never silently dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_bridge.weighing import chain

log = logging.getLogger(__name__)

JOURNAL_NAME = "weighings.jsonl"
_CHUNK = 4096


@dataclass(frozen=True)
class TornLine:
    """A fragment that was moved out of the journal into the ``.corrupt`` file."""

    offset: int
    data: bytes


def corrupt_path(path: Path) -> Path:
    return path.with_name(path.name + ".corrupt")


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.recovered: list[TornLine] = []  # every fragment moved aside by this instance
        self.last: dict[str, Any] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with self._locked() as fd:
            self.last = self._recover(fd)
        if created:
            _fsync_dir(self.path.parent)  # so the journal's directory entry survives a power cut too

    def append(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Chain ``content`` (without sequence) to the last record, write it and fsync it."""
        with self._locked() as fd:
            last = self._recover(fd)
            sequence = last["sequence"] + 1 if last else 1
            prev = last["record_hash"] if last else chain.GENESIS
            record = chain.make_record({**content, "sequence": sequence}, prev)
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            _write_all(fd, line.encode("utf-8"))
            os.fsync(fd)
        self.last = record
        return record

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        # O_APPEND: a write always lands at the end, whatever we pread before it.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the flock

    def _recover(self, fd: int) -> dict[str, Any] | None:
        """The last whole record, after moving any torn or unreadable tail into ``.corrupt``."""
        size = os.fstat(fd).st_size
        start = _line_start(fd, size)
        if start < size:  # no newline at the end: the last write did not finish
            fragment = os.pread(fd, size - start, start)
            record = _whole_record(fragment, check_hash=True)
            if record is not None:
                # Everything but the newline reached the disk: the record is whole, keep it.
                _write_all(fd, b"\n")
                os.fsync(fd)
                return record
            self._set_aside(fd, start, fragment)
            size = start
        while size > 0:
            start = _line_start(fd, size - 1)
            line = os.pread(fd, size - 1 - start, start)
            record = _whole_record(line, check_hash=False)
            if record is not None:
                if chain.record_hash(record["prev_hash"], record) != record["record_hash"]:
                    log.error(
                        "weighing journal %s: the last record (sequence %s) does not match its hash; "
                        "continuing the chain from it; run `ioc weighing verify %s`",
                        self.path,
                        record["sequence"],
                        self.path,
                    )
                return record
            # A newline-terminated line that is not a record: the filesystem kept the newline but
            # not the bytes before it (a crash on a filesystem without data journaling).
            self._set_aside(fd, start, line + b"\n")
            size = start
        return None

    def _set_aside(self, fd: int, offset: int, data: bytes) -> None:
        # Copy first, truncate after: a crash in between duplicates the fragment, never loses it.
        note = {
            "detected_ns": time.time_ns(),
            "journal_offset": offset,
            "length": len(data),
            "text": data.decode("utf-8", "backslashreplace"),
        }
        corrupt = corrupt_path(self.path)
        with open(corrupt, "ab") as out:
            out.write((json.dumps(note, ensure_ascii=False) + "\n").encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.ftruncate(fd, offset)
        os.fsync(fd)
        self.recovered.append(TornLine(offset, data))
        log.warning(
            "weighing journal %s: torn or unreadable line at byte %d (%d bytes) moved to %s",
            self.path,
            offset,
            len(data),
            corrupt,
        )


def _line_start(fd: int, end: int) -> int:
    """Offset just after the last newline before ``end`` (0 when there is none)."""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        chunk = os.pread(fd, step, pos - step)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return pos - step + found + 1
        pos -= step
    return 0


def _whole_record(data: bytes, *, check_hash: bool) -> dict[str, Any] | None:
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            return None
        record = chain.normalise(raw)
        record["prev_hash"] = chain.link_of(raw, "prev_hash")
        record["record_hash"] = chain.link_of(raw, "record_hash")
    except (UnicodeDecodeError, ValueError):  # json and RecordError are ValueErrors
        return None
    if check_hash and chain.record_hash(record["prev_hash"], record) != record["record_hash"]:
        return None
    return record


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
