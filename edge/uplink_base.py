"""What every uplink shares: take batches from the durable buffer's two lanes — the live lane at
once, the backlog at a bounded rate — hand them to a transport, and ack them on confirmation."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from edge.buffer import Batch, DurableBuffer
from ioc import payload


class LaneSender(ABC):
    def __init__(
        self, city: str, gateway: str, buffer: DurableBuffer, max_readings: int, drain_rate: float
    ) -> None:
        self.city, self.gateway = city, gateway
        self.buffer = buffer
        self.max_readings = min(max_readings, payload.MAX_READINGS_PER_BATCH)
        self.drain_rate = drain_rate  # backlog readings per second
        self.connected = threading.Event()
        self.sent_readings = 0
        self.acked_readings = 0
        self.reconnects = 0
        # Remote config arrives only over MQTT; other transports leave these unused.
        self.on_config: Callable[[bytes], None] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._hold_until = 0.0  # monotonic time before which nothing is sent (the far end refused)
        self._sender = threading.Thread(target=self._send_loop, name="uplink-send", daemon=True)

    @abstractmethod
    def _send(self, batch: Batch) -> None:
        """Hand ``batch`` to the transport; call ``_confirmed`` once the far end has it."""

    @abstractmethod
    def _room(self) -> bool:
        """Whether the transport takes another batch now."""

    def publish_config_ack(self, doc: dict[str, object]) -> None:  # noqa: B027 - MQTT overrides
        """Only the MQTT uplink carries config acks."""

    def wake(self) -> None:
        self._wake.set()

    def _confirmed(self, batch: Batch) -> None:
        self.buffer.ack(batch)
        self.acked_readings += len(batch.items)
        self._wake.set()

    def _send_loop(self) -> None:
        tokens, last = 0.0, time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(0.1)
            self._wake.clear()
            now = time.monotonic()
            tokens = min(tokens + (now - last) * self.drain_rate, self.drain_rate)  # at most 1 s of burst
            last = now
            if not self.connected.is_set() or now < self._hold_until:
                continue
            while self._room() and (batch := self.buffer.take("live", self.max_readings)):
                self._send(batch)
            while self._room() and tokens >= 1:
                batch = self.buffer.take("backlog", int(min(self.max_readings, tokens)))
                if batch is None:
                    break
                tokens -= len(batch.items)
                self._send(batch)

    def _pending(self) -> bool:
        return bool(self.buffer.depth())

    def _drain_before_stop(self, timeout_s: float) -> None:
        """Give what is committed a moment to go out; what is not confirmed stays in the buffer."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.connected.is_set() and self._pending():
            self._wake.set()
            time.sleep(0.05)
        self._stop.set()
        self._sender.join(timeout=5)
