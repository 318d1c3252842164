"""A signal controller that publishes its JSON status over MQTT once per controller tick.

Publishes to a broker it is given (``broker=(host, port)``), QoS 1, one message per ``interval_s``.
``emitted`` has an entry per published status (never for the malformed ones noise inserts).
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_bridge.ntcip.mqtt_payload import encode_status
from firmware_bridge.ntcip.signal_plan import CONFLICTS, PHASES, Snapshot
from firmware_bridge.ntcip.signal_plan import FAULTS as PLAN_FAULTS
from firmware_bridge.ntcip.sim_base import SignalSimulator

FAULTS: Final = (*PLAN_FAULTS, "garbage")
_FLUSH_S = 2.0


def snapshot_payload(snapshot: Snapshot, time_ns: int) -> bytes:
    groups = {p: "flashing" if snapshot.flashing else (c or "dark") for p, c in snapshot.colours.items()}
    flags = {
        "walk": snapshot.walks,
        "ped_clear": snapshot.ped_clears,
        "vehicle_call": snapshot.vehicle_calls,
        "ped_call": snapshot.ped_calls,
    }
    return encode_status(
        time_ns=time_ns,
        mode=snapshot.mode,
        plan=snapshot.plan,
        groups=groups,
        flags=flags,
        faults=snapshot.faults,
    )


def malformed(payload: bytes, choice: int) -> bytes:
    """Damaged variants of a good payload, each of which a decoder must drop whole."""
    doc = json.loads(payload)
    variants: list[Any] = [
        payload[: len(payload) // 2],  # cut off mid-message
        b"\xff\xfe\x00garbage",  # not UTF-8 text
        json.dumps([doc]).encode(),  # wrapped in a list
        {**doc, "groups": {**doc["groups"], "2": "blue"}},  # unknown signal state
        {**doc, "plan": str(doc.get("plan"))},  # number sent as text
        {**doc, "ts": doc["ts"][:19]},  # local time without its offset
        {**doc, "mode": "AUTO"},  # mode in the vendor's own spelling
    ]
    damaged = variants[choice % len(variants)]
    return damaged if isinstance(damaged, bytes) else json.dumps(damaged).encode()


class TscMqttSimulator(SignalSimulator):
    """Extra keywords: ``broker`` (host, port), ``topic``, ``time_scale``, ``start_s`` (see NtcipSimulator).
    ``port`` is ``host:port/topic``, a valid device ``port:`` for tsc-mqtt; ``options()`` gives the
    same as options instead. ``noise``: probability that a malformed payload precedes a status."""

    FAULTS = FAULTS
    CONFLICTS = CONFLICTS
    PHASES = PHASES

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        time_scale: float = 1.0,
        start_s: float | None = None,
        broker: tuple[str, int] = ("127.0.0.1", 1883),
        topic: str = "tsc/sim/status",
    ) -> None:
        super().__init__(
            interval_s=interval_s, seed=seed, noise=noise, time_scale=time_scale, start_s=start_s
        )
        self.broker = broker
        self.topic = topic
        self.port = f"{broker[0]}:{broker[1]}/{topic}"
        self.published = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tsc-sim-{id(self):x}")
        self._last: mqtt.MQTTMessageInfo | None = None

    def options(self) -> dict[str, Any]:
        """The device ``options:`` that match this simulator."""
        host, port = self.broker
        return {"host": host, "port": port, "topic": self.topic, "conflicts": [list(p) for p in CONFLICTS]}

    def open(self) -> None:
        try:
            self._client.connect(*self.broker, keepalive=30)
        except OSError as exc:
            raise ConnectionError(f"tsc-mqtt simulator: cannot reach MQTT broker {self.port}: {exc}") from exc
        self._client.loop_start()

    def close(self) -> None:
        if self._last is not None:
            with contextlib.suppress(RuntimeError, ValueError):  # not queued: the connection is gone
                self._last.wait_for_publish(timeout=_FLUSH_S)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, snapshot: Snapshot) -> None:
        if self.fault == "dropout":
            return
        time_ns = time.time_ns() // 1_000_000 * 1_000_000  # the payload carries milliseconds
        payload = snapshot_payload(snapshot, time_ns)
        if self.fault == "garbage":
            self._send(malformed(payload, self.noise_rng.randrange(1000)))
            return
        if self.noise and self.noise_rng.random() < self.noise:
            self.noise_inserted += 1
            self._send(malformed(payload, self.noise_rng.randrange(1000)))
        self.record(time_ns, snapshot)
        self._send(payload)

    def _send(self, payload: bytes) -> None:
        self._last = self._client.publish(self.topic, payload, qos=1)
        self.published += 1
