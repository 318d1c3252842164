"""MQTT uplink of a gateway: batches from the durable buffer as QoS 1 on ``up``, retained
online/offline on ``state`` (offline is the last will).

A batch leaves the buffer only on its PUBACK. The live lane is sent as soon as a group is
committed; the backlog after an outage drains beside it at a bounded rate, so fresh readings keep
their low latency while hours of stored data catch up.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.buffer import Batch, DurableBuffer
from ioc import payload, topics

log = logging.getLogger(__name__)
MAX_INFLIGHT_BATCHES = 50


class MqttUplink:
    def __init__(
        self,
        city: str,
        gateway: str,
        host: str,
        port: int,
        buffer: DurableBuffer,
        max_readings: int = 500,
        drain_rate: float = 50_000.0,
    ) -> None:
        self.city, self.gateway = city, gateway
        self.buffer = buffer
        self.max_readings = min(max_readings, payload.MAX_READINGS_PER_BATCH)
        self.drain_rate = drain_rate  # backlog readings per second
        self.up_topic = topics.topic(city, gateway, "up")
        self.state_topic = topics.topic(city, gateway, "state")
        self.connected = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[int, Batch] = {}
        self._early_acks: dict[int, float] = {}  # mid → when its PUBACK came
        self.sent_readings = 0
        self.acked_readings = 0
        self.reconnects = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"gw-{city}-{gateway}", protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(MAX_INFLIGHT_BATCHES)
        self.client.reconnect_delay_set(0.5, 30)  # paho backs off exponentially between these
        self.client.will_set(self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._host, self._port = host, port
        self._sender = threading.Thread(target=self._send_loop, name="uplink-send", daemon=True)
        # The desired config the cloud keeps retained on `config`; set before start().
        self.config_topic = topics.topic(city, gateway, "config")
        self.config_ack_topic = topics.topic(city, gateway, "config/ack")
        self.on_config: Callable[[bytes], None] | None = None
        self.client.message_callback_add(self.config_topic, self._on_config_message)

    # --- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("uplink: broker refused the connection: %s", reason)
            return
        with self._lock:
            self._inflight.clear()
            self._early_acks.clear()
            self.buffer.restart_lanes()
        client.publish(self.state_topic, json.dumps({"state": "online"}), qos=1, retain=True)
        if self.on_config is not None:
            client.subscribe(self.config_topic, qos=1)
        self.connected.set()
        self._wake.set()

    def _on_disconnect(self, *_args: object) -> None:
        if self.connected.is_set():
            self.reconnects += 1
        self.connected.clear()

    def _on_publish(self, _c: object, _u: object, mid: int, _reason: object, _p: object) -> None:
        with self._lock:
            batch = self._inflight.pop(mid, None)
            if batch is None:
                # The PUBACK beat _publish to registering the batch (publish() is not called
                # under our lock, to keep paho's locks and ours from ever waiting on each other).
                self._early_acks[mid] = time.monotonic()
        if batch is not None:
            self._confirmed(batch)

    def _confirmed(self, batch: Batch) -> None:
        self.buffer.ack(batch)
        self.acked_readings += len(batch.items)
        self._wake.set()

    def _on_config_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if self.on_config is not None:
            self.on_config(message.payload)

    def publish_config_ack(self, doc: dict[str, object]) -> None:
        self.client.publish(self.config_ack_topic, json.dumps(doc, ensure_ascii=False), qos=1)

    # --- sending ---------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def _publish(self, batch: Batch) -> None:
        data = payload.encode_items(self.gateway, batch.seq, batch.items)
        started = time.monotonic()
        info = self.client.publish(self.up_topic, data, qos=1)
        self.sent_readings += len(batch.items)
        with self._lock:
            # Only an ack that came after this publish began is for this message: an older one
            # with the same (recycled) mid belonged to a message of a previous session.
            acked_at = self._early_acks.pop(info.mid, None)
            early = acked_at is not None and acked_at >= started
            if len(self._early_acks) > 10_000:
                self._early_acks.clear()
            if not early:
                self._inflight[info.mid] = batch
        if early:
            self._confirmed(batch)

    def _room(self) -> bool:
        with self._lock:
            return len(self._inflight) < MAX_INFLIGHT_BATCHES

    def _send_loop(self) -> None:
        tokens, last = 0.0, time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(0.1)
            self._wake.clear()
            now = time.monotonic()
            tokens = min(tokens + (now - last) * self.drain_rate, self.drain_rate)  # at most 1 s of burst
            last = now
            if not self.connected.is_set():
                continue
            while self._room() and (batch := self.buffer.take("live", self.max_readings)):
                self._publish(batch)
            while self._room() and tokens >= 1:
                batch = self.buffer.take("backlog", int(min(self.max_readings, tokens)))
                if batch is None:
                    break
                tokens -= len(batch.items)
                self._publish(batch)

    def start(self) -> MqttUplink:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 24 * 3600
        self.client.connect_async(self._host, self._port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        self._sender.start()
        return self

    @property
    def unacked_batches(self) -> int:
        with self._lock:
            return len(self._inflight)

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Give what is committed a moment to go out, say goodbye, disconnect. What is not
        confirmed stays in the buffer for the next start."""
        deadline = time.monotonic() + drain_timeout_s
        while (
            time.monotonic() < deadline
            and self.connected.is_set()
            and (self.unacked_batches or self.buffer.depth())
        ):
            self._wake.set()
            time.sleep(0.05)
        self._stop.set()
        self._sender.join(timeout=5)
        if self.connected.is_set():
            goodbye = self.client.publish(
                self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True
            )
            goodbye.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
