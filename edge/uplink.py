"""MQTT uplink of a gateway: QoS 1 batches on ``up``, retained online/offline on ``state``.

This first version keeps unacknowledged batches in memory (paho re-sends them after a reconnect);
the durable SQLite store-and-forward buffer of the edge-agent issue replaces that.
"""

from __future__ import annotations

import json
import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ioc import payload, topics
from ioc.reading import Reading

log = logging.getLogger(__name__)


class MqttUplink:
    def __init__(self, city: str, gateway: str, host: str, port: int, max_readings: int = 500) -> None:
        self.city, self.gateway = city, gateway
        self.max_readings = max_readings
        self.up_topic = topics.topic(city, gateway, "up")
        self.state_topic = topics.topic(city, gateway, "state")
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._seq = 0
        self._unacked: dict[int, int] = {}  # mid → readings in that batch
        self.sent_readings = 0
        self.acked_readings = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"gw-{city}-{gateway}", protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(0.5, 30)
        # The broker announces us offline if we vanish without a goodbye (power cut, crash).
        self.client.will_set(self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_publish = self._on_publish
        self._host, self._port = host, port

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("uplink: broker refused the connection: %s", reason)
            return
        client.publish(self.state_topic, json.dumps({"state": "online"}), qos=1, retain=True)
        self.connected.set()

    def _on_publish(self, _c: object, _u: object, mid: int, _reason: object, _p: object) -> None:
        with self._lock:
            self.acked_readings += self._unacked.pop(mid, 0)

    def start(self) -> MqttUplink:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 24 * 3600
        self.client.connect_async(self._host, self._port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        return self

    def send(self, readings: list[Reading]) -> None:
        for chunk in payload.split(readings, self.max_readings):
            with self._lock:
                self._seq += 1
                data = payload.encode(self.gateway, self._seq, chunk)
                info = self.client.publish(self.up_topic, data, qos=1)
                self._unacked[info.mid] = len(chunk)
                self.sent_readings += len(chunk)

    @property
    def unacked_readings(self) -> int:
        with self._lock:
            return sum(self._unacked.values())

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Wait a little for outstanding PUBACKs, say goodbye, disconnect."""
        deadline = threading.Event()
        for _ in range(int(drain_timeout_s / 0.05)):
            if not self.unacked_readings or not self.connected.is_set():
                break
            deadline.wait(0.05)
        if self.connected.is_set():
            self.client.publish(
                self.state_topic, json.dumps({"state": "offline"}), qos=1, retain=True
            ).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
