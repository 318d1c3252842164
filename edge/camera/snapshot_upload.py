"""Sends the stored event snapshots to the cloud API (``PUT /api/v1/cameras/{device}/snapshots``,
``image/jpeg``, a bearer token of a role with upload-snapshots), oldest first.

At-least-once: a snapshot is marked sent only after a 2xx. Network errors, 5xx and 429 are retried
after a capped, jittered, doubling wait. A 4xx is given up on with a counted reason: a picture the
cloud refuses (400, 413, 415, 422) is discarded, since no retry can succeed; a refused token (401,
403) holds every upload, and a camera the cloud does not know (404) holds that camera's, until the
next pass after the longest wait. The token file is re-read on every pass, so fixing it resumes the
uploads without a restart.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import quote

import urllib3

from edge.camera.events import SnapshotStore, StoredSnapshot

log = logging.getLogger(__name__)

UPLOAD_PATH = "/api/v1/cameras/{device}/snapshots"
REFUSED_PICTURE = {400: "bad request", 413: "too big", 415: "not a JPEG", 422: "invalid"}
CONFIG_PROBLEM = {401: "bad token", 403: "token lacks upload-snapshots", 404: "camera unknown to the cloud"}


class Outcome(Enum):
    SENT = "sent"
    DISCARDED = "discarded"  # refused for good; the next snapshot may still go
    RETRY = "retry"  # the cloud or the network is down: back off, then go on from this one
    HOLD = "hold"  # the token is refused: wait the longest, then try again
    HOLD_CAMERA = "hold camera"  # the cloud does not know this camera: skip its pictures for now


@dataclass
class UploadStats:
    sent: int = 0
    retried: Counter[str] = field(default_factory=Counter)  # reason → failed attempts, retried later
    gave_up: Counter[str] = field(default_factory=Counter)  # reason → 4xx answers (and a missing token)
    discarded: int = 0  # pictures the cloud refused for good (too big, not a JPEG): deleted unsent


class SnapshotUploader:
    def __init__(
        self,
        store: SnapshotStore,
        base_url: str,
        token_file: Path,
        *,
        ca_certs: Path | None = None,
        timeout_s: float = 20.0,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        idle_s: float = 1.0,
        poll_s: float = 30.0,
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.token_file = Path(token_file)
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self.idle_s, self.poll_s = idle_s, poll_s  # stop checks; passes when nothing woke the uploader
        self.stats = UploadStats()
        self._failures = 0
        # The retry policy is the pass loop's, so no wait blocks a stop; urllib3 only re-sends at once
        # when a pooled keep-alive connection turns out closed (a reset after an error, a proxy).
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(10.0, timeout_s), read=timeout_s),
            retries=urllib3.Retry(total=1, connect=0, read=1, redirect=False, raise_on_status=False),
            ca_certs=str(ca_certs) if ca_certs else None,
        )

    def run(self, stop: threading.Event) -> None:
        """Uploads until ``stop``; wakes on each new snapshot. Never raises."""
        while not stop.is_set():
            try:
                wait = self.upload_pending()
            except Exception:  # a bug here must not end the uploads for good
                log.exception("snapshot upload pass failed")
                wait = self.max_backoff_s
            if self._failures:
                stop.wait(wait)  # the cloud is down: new snapshots wait their turn
                continue
            # Idle, or some held back by a configuration problem: a new snapshot starts a pass, and so
            # does ``poll_s`` passing, for snapshots saved through another SnapshotStore on this folder.
            deadline = time.monotonic() + (wait if wait is not None else self.poll_s)
            while not stop.is_set() and time.monotonic() < deadline:
                if self.store.added.wait(min(self.idle_s, max(0.0, deadline - time.monotonic()))):
                    break

    def upload_pending(self) -> float | None:
        """One pass over the waiting snapshots, oldest first. None when none is left waiting, else
        the seconds to wait before the next pass."""
        self.store.added.clear()  # a snapshot saved during the pass wakes the next one
        token = self._token()
        if token is None:
            self.stats.gave_up["no token"] += 1
            return self.max_backoff_s
        held: set[str] = set()
        for snap in self.store.pending():
            if snap.device in held:
                continue
            outcome = self._send(snap, token)
            if outcome is Outcome.RETRY:
                self._failures += 1
                limit = min(self.min_backoff_s * 2 ** (self._failures - 1), self.max_backoff_s)
                # Jitter: gateways that lost the cloud together do not all come back in one second.
                return limit * random.uniform(0.5, 1.0)
            self._failures = 0
            if outcome is Outcome.HOLD:
                return self.max_backoff_s  # the token: no upload can succeed
            if outcome is Outcome.HOLD_CAMERA:
                held.add(snap.device)  # the other cameras' pictures still go
        return self.max_backoff_s if held else None

    def _token(self) -> str | None:
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            log.warning("snapshot upload: cannot read the token file %s: %s", self.token_file, exc)
            return None
        return token or None

    def _send(self, snap: StoredSnapshot, token: str) -> Outcome:
        try:
            data = snap.path.read_bytes()
        except FileNotFoundError:
            return Outcome.DISCARDED  # pruned by the store meanwhile; it counted the loss
        url = self.base_url + UPLOAD_PATH.format(device=quote(snap.device, safe=""))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}
        try:
            response = self._http.request("PUT", url, body=data, headers=headers)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.stats.retried["network"] += 1
            log.info("snapshot upload: %s: %s", url, exc)
            return Outcome.RETRY
        status = response.status
        if 200 <= status < 300:
            self.store.mark_sent(snap)
            self.stats.sent += 1
            return Outcome.SENT
        if status >= 500 or status == 429:
            self.stats.retried[f"{status}"] += 1
            return Outcome.RETRY
        reason = f"{status} {REFUSED_PICTURE.get(status) or CONFIG_PROBLEM.get(status) or 'refused'}"
        self.stats.gave_up[reason] += 1
        detail = response.data[:200].decode("utf-8", "replace")
        log.warning("snapshot upload: %s %s: %s", snap.device, reason, detail)
        if status in REFUSED_PICTURE:
            self.stats.discarded += 1
            self.store.discard(snap)
            return Outcome.DISCARDED
        return Outcome.HOLD_CAMERA if status == 404 else Outcome.HOLD
