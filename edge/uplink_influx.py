"""Direct uplink to InfluxDB for small sites without a broker: the same buffer and lanes, written
with the v1 ``/write`` API; a batch leaves the buffer only on a 2xx."""

from __future__ import annotations

import logging
import random

from cloud.influx_writer import InfluxV1Writer, WriteError
from cloud.points import to_line
from edge.buffer import Batch, DurableBuffer
from edge.uplink_base import LaneSender
from ioc.payload import decode_reading

log = logging.getLogger(__name__)


class InfluxUplink(LaneSender):
    def __init__(
        self,
        city: str,
        gateway: str,
        url: str,
        database: str,
        buffer: DurableBuffer,
        max_readings: int = 5000,
        drain_rate: float = 50_000.0,
    ) -> None:
        super().__init__(city, gateway, buffer, max_readings, drain_rate)
        self.writer = InfluxV1Writer(url, database)
        self.refused = 0
        self._retry_s = 0.5

    def _room(self) -> bool:
        return True  # writes are synchronous: one batch at a time

    def _send(self, batch: Batch) -> None:
        lines = [to_line(decode_reading(item)) for item in batch.items]
        self.sent_readings += len(lines)
        try:
            self.writer.write(lines)
        except WriteError as exc:
            if exc.retryable:
                log.warning("uplink: InfluxDB unavailable, keeping the buffer: %s", exc)
                self._went_away()
                return
            # InfluxDB 1.x stores the good points of a refused batch (partial write); the rest
            # cannot succeed on a retry, so the batch is confirmed and the refusal counted.
            self.refused += 1
            log.error("uplink: InfluxDB refused points: %s", exc)
        self._retry_s = 0.5
        self._confirmed(batch)

    def _went_away(self) -> None:
        if self._retry_s == 0.5:  # the first failure after a good write: a new outage
            self.reconnects += 1
        self.connected.clear()
        # Everything not yet written is sent again once InfluxDB answers: in order, as backlog.
        self.buffer.restart_lanes()
        self._stop.wait(self._retry_s * (0.5 + random.random()))
        self._retry_s = min(self._retry_s * 2, 30.0)
        self.connected.set()  # try again: the next write tells

    def start(self) -> InfluxUplink:
        self.connected.set()
        self._sender.start()
        return self

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        self._drain_before_stop(drain_timeout_s)
