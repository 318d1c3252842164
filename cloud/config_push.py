"""Publish a gateway's desired config (retained, QoS 1) and collect the agents' acks."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_bridge import registry
from ioc import config_message, topics
from ioc.config import load_city


def push_config(
    path: Path, host: str, port: int, version: str, gateways: list[str] | None = None, wait_s: float = 10.0
) -> dict[str, dict[str, object] | None]:
    """Validate ``path`` here first (the agents would refuse it anyway), publish it to each
    gateway, and return each gateway's ack (None when none came within ``wait_s``)."""
    city = load_city(path, families=registry.config_specs())  # raises ConfigError with every problem
    targets = gateways or [g.id for g in city.gateways]
    text = path.read_text(encoding="utf-8")
    acks: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        parsed = topics.parse(msg.topic)
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            return
        if parsed and isinstance(doc, dict) and doc.get("version") == version:
            acks.put((parsed.gateway, doc))

    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    try:
        for gateway in targets:
            client.subscribe(topics.topic(city.city.id, gateway, "config/ack"), qos=1)
        time.sleep(0.2)  # let the subscriptions land before the first ack can come
        message = config_message.encode(version, text)
        for gateway in targets:
            client.publish(
                topics.topic(city.city.id, gateway, "config"), message, qos=1, retain=True
            ).wait_for_publish(5)
        result: dict[str, dict[str, object] | None] = dict.fromkeys(targets)
        deadline = time.monotonic() + wait_s
        while any(v is None for v in result.values()) and time.monotonic() < deadline:
            try:
                gateway, doc = acks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if gateway in result:
                result[gateway] = doc
        return result
    finally:
        client.disconnect()
        client.loop_stop()
