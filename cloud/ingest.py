"""Ingest worker: MQTT batches from gateways → validated points → InfluxDB.

At-least-once: a message is acknowledged to the broker (paho manual ack) only after InfluxDB
accepted its points, so a worker or database crash makes the broker deliver it again; a replay
overwrites the same points because their identity is fixed at the edge. Workers share the load
through the MQTT 5 shared subscription in ``ioc.topics.ingest_subscription``.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.influx_writer import WriteError
from cloud.points import to_line
from cloud.validation import message_to_readings, reject
from ioc import topics
from ioc.config import TlsFiles
from ioc.mqtt_auth import authenticate
from ioc.reading import Reading

log = logging.getLogger(__name__)

# How many QoS 1 messages the broker may have in flight to one worker. Paho's and Mosquitto's
# default of 20 stalls a subscriber at a few hundred messages/s because each waits for our ack.
RECEIVE_MAXIMUM = 1000
DEAD_LETTER_REASONS = 5  # the first few reasons ride along as MQTT 5 user properties


class Writer(Protocol):
    def write(self, lines: list[str]) -> None: ...


@dataclass
class IngestStats:
    messages: int = 0
    points: int = 0
    rejected: int = 0
    write_retries: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class _Received:
    """One message and its points, waiting for InfluxDB to accept them."""

    message: mqtt.MQTTMessage
    readings: list[Reading]
    lines: list[str]
    rejected: int


class IngestWorker:
    def __init__(
        self,
        broker_host: str,
        broker_port: int,
        writer: Writer,
        worker_id: str = "ingest-1",
        max_bytes: int = 600_000,
        max_wait_s: float = 0.1,
        cities: str = "+",
        session_expiry_s: int = 24 * 3600,
        credentials: tuple[str, str] | None = None,
        tls_ca_file: str | None = None,
    ) -> None:
        self.writer = writer
        self.stats = IngestStats()
        # Called with the readings InfluxDB has just accepted (benchmarks measure latency here).
        self.on_stored: Callable[[list[Reading]], None] | None = None
        self.max_bytes = max_bytes
        self.max_wait_s = max_wait_s
        # Bounded by the broker: at most RECEIVE_MAXIMUM unacknowledged messages are in flight.
        self._inbox: queue.Queue[_Received] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{worker_id}-writer", daemon=True)
        self.connected = threading.Event()
        self._unsubscribed = threading.Event()
        self._busy = threading.Event()  # a batch is being written
        self._host, self._port = broker_host, broker_port
        # One deployment may ingest only some cities (or a test only its own).
        self.subscription = topics.ingest_subscription(cities)
        self.session_expiry_s = session_expiry_s
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=worker_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self.client.max_inflight_messages_set(RECEIVE_MAXIMUM)
        authenticate(self.client, credentials, TlsFiles(ca_file=tls_ca_file) if tls_ca_file else None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_unsubscribe = lambda *_: self._unsubscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 5)

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("ingest: broker refused the connection: %s", reason)
            return
        client.subscribe(self.subscription, qos=1)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        # Decoded, checked and turned into line protocol here, on the network thread: with a
        # second Python thread doing it, the two traded the GIL at every small socket read. Measured
        # A/B here, together with untracking readings from the collector: 95 000 → 118 000 readings/s
        # and 8.6 → 6.9 CPU-µs a reading. The writer thread mostly waits on InfluxDB (GIL released).
        try:
            readings, bad = message_to_readings(msg.topic, msg.payload, self.stats.reject_reasons)
            lines = [to_line(r) for r in readings]
        except Exception as exc:  # a bug here must not end paho's network thread: refuse, visibly
            log.exception("ingest: cannot convert a message on %s", msg.topic[:200])
            failure = f"ingest error: {type(exc).__name__}: {exc}"
            readings, bad = [reject(self.stats.reject_reasons, topics.parse(msg.topic), failure)], 1
            lines = [to_line(readings[0])]
        if bad:
            self._dead_letter(msg, [r for r in readings if r.measurement == "ingest_rejects"])
        self._inbox.put(_Received(msg, readings, lines, bad))

    def _on_disconnect(self, *_args: object) -> None:
        self.connected.clear()

    def start(self) -> IngestWorker:
        props = Properties(PacketTypes.CONNECT)
        # A persistent session: QoS 1 messages wait at the broker while this worker restarts.
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect_async(self._host, self._port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        self._thread.start()
        return self

    def stop(self, drain_timeout_s: float = 30.0) -> None:
        """Leave the shared subscription first, then store what was already delivered, then go.

        A persistent session that stays subscribed keeps its share of the group's messages even
        while its worker is gone (Mosquitto queues them for it), so a worker removed for good must
        unsubscribe, or its share waits — and expires with the session. A crashed worker cannot:
        bring it back under the same id.
        """
        if self.connected.is_set():
            self._unsubscribed.clear()
            self.client.unsubscribe(self.subscription)
            self._unsubscribed.wait(5)
            deadline = time.monotonic() + drain_timeout_s
            while (not self._inbox.empty() or self._busy.is_set()) and time.monotonic() < deadline:
                time.sleep(0.05)
        self._stop.set()
        self._thread.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()

    def _collect(self) -> list[_Received]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        self._busy.set()  # before the inbox looks empty to stop(): these messages are in hand
        batch = [first]
        size = len(first.message.payload)
        deadline = time.monotonic() + self.max_wait_s
        # Bounded by bytes, not messages: a gateway's backlog batch holds 500 readings, a live one a
        # few; one write of ~5 000 readings keeps a live reading from waiting behind a huge batch.
        while size < self.max_bytes:
            remaining = deadline - time.monotonic()
            try:
                item = self._inbox.get(timeout=remaining) if remaining > 0 else self._inbox.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            size += len(item.message.payload)
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._collect()
            try:
                if batch:
                    self._store(batch)
            finally:
                self._busy.clear()

    def _store(self, batch: list[_Received]) -> None:
        lines = [line for item in batch for line in item.lines]
        if not self._write_until_accepted(lines):
            return  # stopping: unacknowledged messages are redelivered to the next worker
        for item in batch:
            self.client.ack(item.message.mid, item.message.qos)
        rejected = sum(item.rejected for item in batch)
        if self.on_stored is not None:
            self.on_stored([r for item in batch for r in item.readings])
        self.stats.messages += len(batch)
        self.stats.points += len(lines) - rejected
        self.stats.rejected += rejected

    def _dead_letter(self, msg: mqtt.MQTTMessage, rejects: list[Reading]) -> None:
        """The refused message as it came, for whoever debugs the gateway, with the reasons."""
        topic = topics.parse(msg.topic)
        city, gateway = (topic.city, topic.gateway) if topic else ("unknown", "unknown")
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("topic", msg.topic[:200])] + [
            ("reason", str(r.fields["reason"])) for r in rejects[:DEAD_LETTER_REASONS]
        ]
        self.client.publish(topics.dead_letter_topic(city, gateway), msg.payload, qos=1, properties=props)

    def _write_until_accepted(self, lines: list[str]) -> bool:
        delay = 0.2
        while True:
            try:
                self.writer.write(lines)
                return True
            except WriteError as exc:
                if not exc.retryable:
                    # InfluxDB 1.x writes the good points of a batch and reports the rest as a
                    # partial write; record it so the loss is visible, and move on.
                    log.error("ingest: InfluxDB refused points: %s", exc)
                    self.stats.reject_reasons["influxdb_refused"] = (
                        self.stats.reject_reasons.get("influxdb_refused", 0) + 1
                    )
                    return True
                self.stats.write_retries += 1
                log.warning("ingest: write failed, retrying in %.1f s: %s", delay, exc)
                if self._stop.wait(delay * (0.5 + random.random())):
                    return False
                delay = min(delay * 2, 10.0)
