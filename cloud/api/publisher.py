"""Publishing a city config to its gateways: retained, QoS 1, on each gateway's ``config`` topic,
in the message format of ``ioc.config_message``."""

from __future__ import annotations

import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ioc import config_message as message
from ioc import topics

PUBLISH_TIMEOUT_S = 5.0


class PublishError(RuntimeError):
    pass


def config_message(version: str, text: str) -> bytes:
    return message.encode(version, text)


class ConfigPublisher:
    """One short connection per publish: configs change a few times a day, and a connection held
    open would need its own reconnect handling for nothing."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def publish(self, city: str, gateways: list[str], version: str, text: str) -> list[str]:
        message = config_message(version, text)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"ioc-api-{uuid.uuid4().hex[:12]}", protocol=mqtt.MQTTv5
        )
        try:
            client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise PublishError(f"MQTT broker {self.host}:{self.port} unreachable: {exc}") from None
        client.loop_start()
        try:
            done = []
            for gateway in gateways:
                info = client.publish(topics.topic(city, gateway, "config"), message, qos=1, retain=True)
                info.wait_for_publish(PUBLISH_TIMEOUT_S)
                if not info.is_published():
                    raise PublishError(
                        f"the broker did not confirm {gateway}'s config within {PUBLISH_TIMEOUT_S:.0f} s"
                        + (f" (already published to {', '.join(done)})" if done else "")
                    )
                done.append(gateway)
            return done
        except PublishError:
            raise
        except (RuntimeError, ValueError) as exc:  # paho: not connected, queue full
            raise PublishError(f"publishing to {self.host}:{self.port} failed: {exc}") from None
        finally:
            client.disconnect()
            client.loop_stop()
