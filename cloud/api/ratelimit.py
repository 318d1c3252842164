"""Requests per minute per token, as a token bucket in memory.

Written here rather than taken from a library (limits, pyrate-limiter): it is a dozen lines, the
429 needs the exact wait for Retry-After straight from the bucket, and one API process keeps its
buckets in memory, so a storage-backed library would bring a dependency for nothing. Several API
processes behind a balancer would each allow the rate; a shared store is the step after that.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        # A full minute's worth may come at once (a wall refreshing every panel), then the rate.
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may (for Retry-After)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill_per_s


def retry_after(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
