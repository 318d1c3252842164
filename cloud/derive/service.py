"""``ioc cloud derive``: recompute the derived points as data arrives.

Every ``interval_s`` the current and previous hour (hourly AQI, WQI, ledger) and the current and
previous local day (daily AQI) are recomputed. Every ``catch_up_s`` (and at start) the last
``catch_up_hours`` are recomputed too: a gateway that was offline delivers its backlog hours
later, and those hours need their indices again. Older backlogs: ``ioc cloud recompute``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from cloud.derive.clock import HOUR_NS, LocalClock
from cloud.derive.recompute import Result, Writer, derive, recompute
from cloud.influx_query import InfluxQuery, QueryError
from cloud.influx_writer import WriteError
from ioc.config import CityConfig

log = logging.getLogger("cloud.derive")


class DeriveService:
    def __init__(
        self,
        query: InfluxQuery,
        writer: Writer,
        city_config: CityConfig,
        *,
        interval_s: float = 60.0,
        catch_up_s: float = 3600.0,
        catch_up_hours: int = 48,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.query, self.writer, self.config = query, writer, city_config
        self.interval_s, self.catch_up_s, self.catch_up_hours = interval_s, catch_up_s, catch_up_hours
        self.clock = clock
        self.local = LocalClock(city_config.city.timezone)
        self.passes = 0
        self.failures = 0
        self.last_error: str | None = None
        self._last_catch_up: float | None = None

    def run_once(self, now_ns: int | None = None) -> Result:
        """The current and previous hour and day."""
        now = self.clock() if now_ns is None else now_ns
        current = self.local.hour_floor(now)
        today = self.local.day_of(now)
        hours = [current - HOUR_NS, current]
        return derive(self.query, self.writer, self.config, hours, [today - timedelta(days=1), today])

    def catch_up(self, now_ns: int | None = None) -> Result:
        now = self.clock() if now_ns is None else now_ns
        end = self.local.hour_floor(now) + HOUR_NS
        return recompute(self.query, self.writer, self.config, end - self.catch_up_hours * HOUR_NS, end)

    def tick(self) -> Result | None:
        """One pass (with a catch-up when one is due); a database that is away is logged and
        retried at the next tick, never the end of the service."""
        due = self._last_catch_up is None or time.monotonic() - self._last_catch_up >= self.catch_up_s
        try:
            result = self.catch_up() if due else self.run_once()
        except (QueryError, WriteError) as exc:
            self.failures += 1
            self.last_error = str(exc)
            log.warning("derive pass failed, retrying in %.0f s: %s", self.interval_s, exc)
            return None
        except Exception as exc:  # a bug in one pass must not stop the indices on the wall for good
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("derive pass failed, retrying in %.0f s", self.interval_s)
            return None
        if due:
            self._last_catch_up = time.monotonic()
        self.passes += 1
        self.last_error = None
        log.debug("derived %s", result.points)
        return result

    def run(self, stop: threading.Event) -> None:
        """Tick every ``interval_s`` until ``stop`` is set."""
        while not stop.is_set():
            self.tick()
            stop.wait(self.interval_s)
