"""MQTT uplink of a gateway: batches from the durable buffer as QoS 1 on ``up``, retained
online/offline on ``state`` (offline is the last will).

A batch leaves the buffer only on its PUBACK. The live lane is sent as soon as a group is
committed; the backlog after an outage drains beside it at a bounded rate, so fresh readings keep
their low latency while hours of stored data catch up.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.buffer import Batch, DurableBuffer
from edge.uplink_base import LaneSender
from ioc import payload, topics
from ioc.config import TlsFiles
from ioc.mqtt_auth import authenticate

log = logging.getLogger(__name__)
MAX_INFLIGHT_BATCHES = 50
NO_MATCHING_SUBSCRIBERS = 0x10  # MQTT 5 PUBACK reason code
HOLD_AFTER_REFUSAL_S = 1.0


class MqttUplink(LaneSender):
    def __init__(
        self,
        city: str,
        gateway: str,
        host: str,
        port: int,
        buffer: DurableBuffer,
        max_readings: int = 500,
        drain_rate: float = 50_000.0,
        tls: TlsFiles | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(city, gateway, buffer, max_readings, drain_rate)
        self.up_topic = topics.topic(city, gateway, "up")
        self.state_topic = topics.topic(city, gateway, "state")
        self._lock = threading.Lock()
        self._inflight: dict[int, Batch] = {}
        self._early_acks: dict[int, tuple[float, bool]] = {}  # mid → (when its PUBACK came, delivered)
        self.refused_batches = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"gw-{city}-{gateway}", protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(MAX_INFLIGHT_BATCHES)
        # paho doubles the delay between these; a random start per gateway spreads a fleet's
        # reconnects after a broker restart instead of all gateways knocking at once.
        self.client.reconnect_delay_set(random.uniform(0.5, 2.0), 30)
        self.client.will_set(self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._host, self._port = host, port
        authenticate(self.client, credentials, tls)
        # The desired config the cloud keeps retained on `config`; set before start().
        self.config_topic = topics.topic(city, gateway, "config")
        self.config_ack_topic = topics.topic(city, gateway, "config/ack")
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

    def _on_publish(self, _c: object, _u: object, mid: int, reason: ReasonCode, _p: object) -> None:
        # A PUBACK is a delivery only when some subscriber took the message: with "no matching
        # subscribers" (Mosquitto says so after a restart, before any ingest worker has subscribed
        # again, since it does not restore shared subscriptions) the message went nowhere.
        delivered = not reason.is_failure and reason.value != NO_MATCHING_SUBSCRIBERS
        with self._lock:
            batch = self._inflight.pop(mid, None)
            if batch is None:
                # The PUBACK beat _send to registering the batch (publish() is not called under
                # our lock, to keep paho's locks and ours from ever waiting on each other).
                self._early_acks[mid] = (time.monotonic(), delivered)
        if batch is not None:
            self._settle(batch, delivered)

    def _settle(self, batch: Batch, delivered: bool) -> None:
        if delivered:
            self._confirmed(batch)
            return
        self.refused_batches += 1
        if self.refused_batches == 1 or self.refused_batches % 100 == 0:
            log.warning(
                "uplink: the broker has no subscriber for %s (ingest down?); holding readings", self.up_topic
            )
        # Keep everything unconfirmed and try again in a moment, oldest first.
        self._hold_until = time.monotonic() + HOLD_AFTER_REFUSAL_S
        self.buffer.restart_lanes()

    def _on_config_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if self.on_config is not None:
            self.on_config(message.payload)

    def publish_config_ack(self, doc: dict[str, object]) -> None:
        self.client.publish(self.config_ack_topic, json.dumps(doc, ensure_ascii=False), qos=1)

    # --- sending ---------------------------------------------------------------------------
    def _send(self, batch: Batch) -> None:
        data = payload.encode_items(self.gateway, batch.seq, batch.items)
        started = time.monotonic()
        info = self.client.publish(self.up_topic, data, qos=1)
        self.sent_readings += len(batch.items)
        with self._lock:
            # Only an ack that came after this publish began is for this message: an older one
            # with the same (recycled) mid belonged to a message of a previous session.
            acked = self._early_acks.pop(info.mid, None)
            early = acked is not None and acked[0] >= started
            if len(self._early_acks) > 10_000:
                self._early_acks.clear()
            if not early:
                self._inflight[info.mid] = batch
        if early:
            assert acked is not None
            self._settle(batch, acked[1])

    def _room(self) -> bool:
        with self._lock:
            return len(self._inflight) < MAX_INFLIGHT_BATCHES

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

    def _pending(self) -> bool:
        return bool(self.unacked_batches or self.buffer.depth())

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Let committed readings go out for a moment, say goodbye, disconnect."""
        self._drain_before_stop(drain_timeout_s)
        if self.connected.is_set():
            goodbye = self.client.publish(
                self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True
            )
            goodbye.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
