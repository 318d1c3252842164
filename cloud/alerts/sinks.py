"""The required sinks: the ``alerts`` measurement and one retained MQTT message per city and rule.

A change leaves the store's outbox only after both took it, so they must be idempotent: a point's
identity is its tags + the change's time, and the retained message is the rule's whole current
state in the city, not a delta.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.alerts.state import Instance, Transition
from cloud.points import to_line
from ioc.config import TlsFiles
from ioc.mqtt_auth import authenticate
from ioc.reading import IDENTITY_TAGS, Reading
from ioc.topics import ID_PATTERN, alerts_topic

log = logging.getLogger(__name__)


class SinkError(RuntimeError):
    pass


class LineWriter(Protocol):
    def write(self, lines: Sequence[str]) -> None: ...


def alert_reading(t: Transition) -> Reading:
    """A change as a point of the ``alerts`` measurement (tags: rule, severity and the group's
    identity tags; ``state`` and ``key`` are fields this module proposes for the dictionary)."""
    tags = {"rule": t.rule, "severity": t.severity}
    tags.update({tag: t.tags[tag] for tag in IDENTITY_TAGS if t.tags.get(tag)})
    fields: dict[str, Any] = {"firing": t.firing, "message": t.message, "state": t.state, "key": t.key}
    if isinstance(t.value, int | float):  # a bool reads as 1.0/0.0; text values stay in the message
        fields["value"] = float(t.value)
    return Reading("alerts", tags, fields, t.time_ns)


class InfluxSink:
    def __init__(self, writer: LineWriter) -> None:
        self.writer = writer

    def send(self, transitions: Sequence[Transition]) -> None:
        """Raises cloud.influx_writer.WriteError when InfluxDB did not take the points."""
        self.writer.write([to_line(alert_reading(t)) for t in transitions])


def rule_state(city: str, rule: str, active: Sequence[Instance], change: Transition | None) -> dict[str, Any]:
    """The retained message of one rule in one city: every active alert, and the latest change."""
    head = change.to_dict() if change else None
    return {
        "city": city,
        "rule": rule,
        "severity": change.severity if change else (active[0].severity if active else None),
        "title": change.title if change else (active[0].title if active else None),
        "firing": bool(active),
        "active": [
            {
                "key": i.key,
                "state": i.state,
                "tags": i.tags,
                "event": i.event,
                "value": i.value,
                "since_ns": i.since_ns,
                "message": i.message,
                "acknowledged_by": i.acknowledged_by,
            }
            for i in active
        ],
        "change": head,
    }


class MqttSink:
    """Publishes retained rule states to ``ioc/alerts/v1/{city}/{rule}`` (QoS 1), reconnecting by itself."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str | None = None,
        timeout_s: float = 5.0,
        credentials: tuple[str, str] | None = None,
        tls_ca_file: str | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.connected = threading.Event()
        client_id = client_id or f"ioc-alerts-{socket.gethostname()}-{os.getpid()}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a: self.connected.clear()
        self.client.reconnect_delay_set(0.2, 10)
        authenticate(self.client, credentials, TlsFiles(ca_file=tls_ca_file) if tls_ca_file else None)
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("alerts: broker refused the connection: %s", reason)
            return
        self.connected.set()

    def publish(self, city: str, rule: str, payload: dict[str, Any]) -> None:
        if not (ID_PATTERN.match(city) and ID_PATTERN.match(rule)):
            log.warning(
                "alerts: no MQTT topic for city %r, rule %r (ids must match %s)",
                city,
                rule,
                ID_PATTERN.pattern,
            )
            return
        # Refuse rather than let paho queue it: the change stays in the outbox and is sent again.
        if not self.connected.is_set():
            raise SinkError("MQTT broker not connected")
        body = json.dumps(payload, ensure_ascii=False).encode()
        info = self.client.publish(alerts_topic(city, rule), body, qos=1, retain=True)
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise SinkError(f"MQTT publish failed: {exc}") from None
        if not info.is_published():
            raise SinkError(f"MQTT broker did not acknowledge within {self.timeout_s} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
