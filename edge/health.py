"""Gateway health, every 10 s, as ``gateway`` readings that travel through the same buffer:
one for the agent (buffer depth, oldest unsent age, uplink, CPU, memory, disk, clock) and one per
device (readings produced and dropped: the edge half of the completeness ledger)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

from edge.buffer import DurableBuffer
from edge.devices import DeviceRunner
from edge.uplink_base import LaneSender
from ioc.reading import Reading

AGENT_DEVICE = "agent"  # the device tag of the agent's own health point
CLOCK_JUMP_S = 1.0


class ClockWatch:
    """Notices when the wall clock is stepped (NTP after boot, a technician setting the date):
    the wall clock moves against the monotonic clock. Readings stamped right after a jump are
    marked "uncertain" by the device runners."""

    def __init__(self) -> None:
        self._baseline = self._offset()
        self.start_offset = self._baseline
        self.jumps = 0
        self._last_jump_ns = 0

    @staticmethod
    def _offset() -> int:
        return time.time_ns() - time.monotonic_ns()

    def check(self) -> bool:
        """True while readings are taken across a jump (within a second of noticing one)."""
        offset = self._offset()
        if abs(offset - self._baseline) > CLOCK_JUMP_S * 1e9:
            self._baseline = offset
            self.jumps += 1
            self._last_jump_ns = time.monotonic_ns()
        return self._last_jump_ns != 0 and time.monotonic_ns() - self._last_jump_ns < CLOCK_JUMP_S * 1e9

    @property
    def stepped_s(self) -> float:
        """How far the wall clock has been stepped since the agent started."""
        return (self._offset() - self.start_offset) / 1e9


class HealthReporter:
    def __init__(
        self,
        tags: dict[str, str],
        buffer: DurableBuffer,
        uplink: LaneSender,
        devices: Sequence[DeviceRunner],
        clock: ClockWatch,
        emit: Callable[[Reading], None],
        interval_s: float = 10.0,
        counters: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.tags, self.buffer, self.uplink, self.devices = tags, buffer, uplink, devices
        self.counters = counters  # the agent's own (events, snapshots), added to its health point
        self.clock, self.emit, self.interval_s = clock, emit, interval_s
        self._process = psutil.Process()
        self._process.cpu_percent()  # the first call only starts the measurement
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health", daemon=True)

    def snapshot(self) -> list[Reading]:
        now = time.time_ns()
        drops = self.buffer.drops()
        quota_drops: dict[str, int] = {}
        for (device, reason), count in drops.items():
            if reason != "downsampled":  # merged into summaries, not lost
                quota_drops[device] = quota_drops.get(device, 0) + count
        disk = shutil.disk_usage(Path(self.buffer.path).parent)
        agent = Reading(
            "gateway",
            dict(self.tags, device=AGENT_DEVICE),
            {
                "buffer_depth": self.buffer.depth(),
                "oldest_unsent_s": round(self.buffer.oldest_unsent_age_s(now), 3),
                "produced": sum(d.status.produced for d in self.devices),
                "dropped": sum(quota_drops.values()),
                "uplink_connected": self.uplink.connected.is_set(),
                "cpu_pct": self._process.cpu_percent(),
                "rss_mb": round(self._process.memory_info().rss / 1e6, 1),
                "disk_free_mb": round(disk.free / 1e6, 1),
                "clock_offset_s": round(self.clock.stepped_s, 3),
                **(self.counters() if self.counters else {}),
            },
            now,
        )
        per_device = [
            Reading(
                "gateway",
                dict(self.tags, device=d.ctx.device_id),
                {
                    "produced": d.status.produced,
                    # Readings the quota policy dropped; frames a decoder refused show on the status page.
                    "dropped": quota_drops.get(d.ctx.device_id, 0),
                },
                now + i + 1,
            )
            for i, d in enumerate(self.devices)
        ]
        return [agent, *per_device]

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            for reading in self.snapshot():
                self.emit(reading)

    def start(self) -> HealthReporter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
