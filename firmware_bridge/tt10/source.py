"""Watches a station's upload folder: every settled file is parsed, emitted, recorded, then archived.

Order per file: emit → ledger → archive. A crash between emit and ledger re-reads the file on the
next start (at-least-once; the replayed points have the same identity, so InfluxDB overwrites).
A crash between ledger and archive leaves a file the ledger knows: it is skipped and archived then.
Polling with ``os.scandir`` works on every filesystem an FTP server writes to (inotify does not
see NFS/SMB writes and is not installed).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import threading
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

from firmware_bridge.registry import DeviceContext, Sample
from firmware_bridge.tt10.ledger import Ledger
from firmware_bridge.tt10.options import Tt10Options
from firmware_bridge.tt10.parser import MAX_FILE_BYTES, FileName, ParseResult, Tt10Parser

log = logging.getLogger(__name__)

PROCESSED, REJECTED = "processed", "rejected"
REASON_SUFFIX = ".reason.txt"
MIN_POLL_S = 0.01


@dataclass(slots=True)
class _Seen:
    stat: tuple[int, int]  # size, mtime_ns
    since: float  # monotonic time this stat was first observed


class Tt10Source:
    """The ``Source`` of a ``tt10`` device. ``counts`` tallies files, ``dropped`` the refused lines by reason.

    ``clock`` (monotonic) and ``wall`` (epoch seconds, compared with file mtimes) can be replaced in
    tests to control when a file counts as settled.
    """

    def __init__(
        self,
        ctx: DeviceContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not ctx.port:
            raise ValueError(
                f"device {ctx.device_id!r}: port must be the folder the station's files arrive in"
            )
        options = (
            ctx.options
            if isinstance(ctx.options, Tt10Options)
            else Tt10Options.model_validate(ctx.options or {})
        )
        self.options = options
        self.folder = Path(ctx.port)
        self.poll_interval_s = max(ctx.poll_interval_s, MIN_POLL_S)
        self.parser = Tt10Parser(options)
        safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", ctx.device_id)
        self.ledger = Ledger(ctx.state_dir / f"{safe_id}.tt10-ledger.sqlite")
        # processed, rejected (files), duplicate (already in the ledger), rewritten (same name, new content).
        self.counts: collections.Counter[str] = collections.Counter()
        self.dropped: collections.Counter[str] = collections.Counter()
        self.scans = 0
        self._clock, self._wall = clock, wall
        self._seen: dict[str, _Seen] = {}
        # Files handled in this run that are still in the folder (archive off, or the move failed).
        self._done: dict[str, tuple[int, int]] = {}
        self._tz = zoneinfo.ZoneInfo(options.timezone)

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        if not self.folder.is_dir():
            raise FileNotFoundError(f"station folder {self.folder} does not exist (device port)")
        while not stop.is_set():
            self.poll(emit, stop)
            stop.wait(self.poll_interval_s)

    def poll(self, emit: Callable[[Sample], None], stop: threading.Event | None = None) -> int:
        """One scan of the folder: handle every settled file, oldest first. Returns how many were handled."""
        ready: list[tuple[tuple[int, int, str], str, tuple[int, int]]] = []
        present: set[str] = set()
        pattern = self.options.glob.lower()
        with os.scandir(self.folder) as entries:
            for entry in entries:
                # Dot files are FTP servers' upload temporaries (and the simulator's); they get renamed.
                if entry.name.startswith(".") or not fnmatchcase(entry.name.lower(), pattern):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                present.add(entry.name)
                stat = (st.st_size, st.st_mtime_ns)
                # Zero bytes: an upload that has not written yet. There is nothing in it to lose.
                if stat[0] == 0 or self._done.get(entry.name) == stat or not self._settled(entry.name, stat):
                    continue
                ready.append((self._order(entry.name, stat[1]), entry.name, stat))
        for gone in (self._seen.keys() | self._done.keys()) - present:
            self._seen.pop(gone, None)
            self._done.pop(gone, None)
        self.scans += 1
        handled = 0
        for _, name, stat in sorted(ready):
            if stop is not None and stop.is_set():
                break
            handled += self._handle(name, stat, emit)
        return handled

    def close(self) -> None:
        self.ledger.close()

    def _settled(self, name: str, stat: tuple[int, int]) -> bool:
        now, seen = self._clock(), self._seen.get(name)
        if seen is None or seen.stat != stat:
            self._seen[name] = _Seen(stat, now)
            # Already untouched for settle_s when first seen (it arrived while we were down): no wait.
            return seen is None and self._wall() - stat[1] / 1e9 >= self.options.settle_s
        return now - seen.since >= self.options.settle_s

    def _order(self, name: str, mtime_ns: int) -> tuple[int, int, str]:
        parsed = self.parser.parse_name(name)
        # Oldest first by the time in the name; names that do not parse go last, by mtime.
        return (0, parsed.time_ns, name) if isinstance(parsed, FileName) else (1, mtime_ns, name)

    def _handle(self, name: str, stat: tuple[int, int], emit: Callable[[Sample], None]) -> int:
        path = self.folder / name
        try:
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)  # enough to tell the parser it is too large
            after = path.stat()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("%s: cannot read %s: %s", self.folder, name, exc)
            self.counts["unreadable"] += 1
            self._done[name] = stat
            return 0
        if (after.st_size, after.st_mtime_ns) != stat:
            self._seen.pop(name, None)  # written to while we read: wait for it to settle again
            return 0
        sha = hashlib.sha256(data).hexdigest()
        known = self.ledger.hashes(name)
        if sha in known:
            self.counts["duplicate"] += 1
            self._archive(name, stat, known[sha], None, None)
            return 1
        if known:
            self.counts["rewritten"] += 1
        result = self.parser.parse(name, data)
        self.dropped.update(result.dropped)
        for sample in result.samples:
            emit(sample)
        outcome = PROCESSED if result.samples else REJECTED
        self.ledger.record(name, sha, len(data), outcome, len(result.samples), len(result.rejects))
        self.counts[outcome] += 1
        if result.rejects:
            log.warning(
                "%s: %s: %d line(s) refused:\n%s", self.folder, name, len(result.rejects), _head(result)
            )
        self._archive(name, stat, outcome, result.reason_text() if result.rejects else None, result.name)
        return 1

    def _archive(
        self, name: str, stat: tuple[int, int], outcome: str, reason: str | None, parsed: FileName | None
    ) -> None:
        if not self.options.archive:
            self._done[name] = stat
            return
        if outcome == PROCESSED:
            if parsed is None:
                named = self.parser.parse_name(name)
                parsed = named if isinstance(named, FileName) else None
            day = parsed.local_time if parsed else datetime.fromtimestamp(self._wall(), self._tz)
            target_dir = self.folder / PROCESSED / day.strftime("%Y-%m-%d")
        else:
            target_dir = self.folder / REJECTED
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = _free_name(target_dir, name)
            if reason is not None:
                (target_dir / (target.name + REASON_SUFFIX)).write_text(reason, encoding="utf-8")
            os.replace(self.folder / name, target)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("%s: cannot move %s to %s: %s", self.folder, name, target_dir, exc)
            self._done[name] = stat


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``stem.1.txt``, ``stem.2.txt`` … if a rewritten file got there first."""
    target = folder / name
    stem, dot, suffix = name.rpartition(".")
    n = 1
    while target.exists():
        target = folder / (f"{stem}.{n}{dot}{suffix}" if stem else f"{name}.{n}")
        n += 1
    return target


def _head(result: ParseResult, limit: int = 5) -> str:
    lines = result.reason_text().splitlines()
    extra = f"\n… and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + extra
