"""The gateway agent: one runner per device → the durable buffer → the uplink.

``apply`` changes the devices of a running agent without a restart (remote config): a device
whose settings did not change keeps running untouched.

Device events (a camera's state change) go out on MQTT ``events``; the JPEG behind each camera event
goes to the cloud API when the gateway's ``cloud_api`` is set, by one uploader for all its cameras.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

from edge.buffer import DurableBuffer
from edge.devices import DeviceRunner
from edge.health import ClockWatch, HealthReporter
from edge.quota import Quota
from edge.uplink import MqttUplink
from edge.uplink_base import LaneSender
from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext
from ioc import topics
from ioc.config import CityConfig, CloudApi, Device, Gateway, TlsFiles

if TYPE_CHECKING:
    from edge.camera.snapshot_upload import SnapshotUploader

log = logging.getLogger(__name__)
# The gateway's files its devices share (camera snapshots). No device id starts with "_", so this
# folder never meets a device's own.
SHARED_DIR = "_shared"


@dataclass(frozen=True)
class AgentOptions:
    broker_host: str
    broker_port: int
    batch_max_readings: int = 500
    state_dir: Path = Path("var/edge")  # the buffer and device state (ledgers, chains) live here
    commit_interval_s: float = 0.25
    quota_mb: float | None = None  # None: no quota (the disk is the limit)
    drain_rate: float = 50_000.0  # backlog readings per second after an outage
    health_interval_s: float = 10.0
    tls: TlsFiles | None = None
    credentials: tuple[str, str] | None = None  # (username, password) of the gateway's broker account
    # (url, database): write straight to InfluxDB instead of MQTT, for small sites without a broker.
    direct_influxdb: tuple[str, str] | None = None


def find_gateway(config: CityConfig, gateway_id: str) -> Gateway:
    gateway = next((g for g in config.gateways if g.id == gateway_id), None)
    if gateway is None:
        known = ", ".join(g.id for g in config.gateways)
        raise ValueError(f"gateway {gateway_id!r} is not in the config (known: {known})")
    return gateway


class EdgeAgent:
    def __init__(
        self,
        config: CityConfig,
        gateway_id: str,
        options: AgentOptions,
        port_overrides: dict[str, str] | None = None,
    ) -> None:
        self.gateway = find_gateway(config, gateway_id)
        self.city = config.city.id
        self.options = options
        self.overrides = port_overrides or {}
        self.state_dir = options.state_dir / gateway_id
        self.shared_dir = self.state_dir / SHARED_DIR
        self.events_topic = topics.topic(config.city.id, gateway_id, "events")
        self.events_published = 0  # handed to paho, which sends them once connected
        self.events_unpublished = 0  # no broker to carry them (direct InfluxDB uplink) or paho refused
        self._events_lock = threading.Lock()
        self.uploader: SnapshotUploader | None = None
        self._uploads: tuple[CloudApi, threading.Thread, threading.Event] | None = None
        quota = Quota(int(options.quota_mb * 1e6)) if options.quota_mb else None
        self.buffer = DurableBuffer(self.state_dir / "buffer.sqlite", options.commit_interval_s, quota)
        self.uplink: LaneSender
        if options.direct_influxdb:
            from edge.uplink_influx import InfluxUplink  # loads the InfluxDB client only where used

            url, database = options.direct_influxdb
            self.uplink = InfluxUplink(
                config.city.id, gateway_id, url, database, self.buffer, drain_rate=options.drain_rate
            )
        else:
            self.uplink = MqttUplink(
                config.city.id,
                gateway_id,
                options.broker_host,
                options.broker_port,
                self.buffer,
                options.batch_max_readings,
                options.drain_rate,
                options.tls,
                options.credentials,
            )
        self.buffer.on_commit = self.uplink.wake
        self.clock = ClockWatch()
        self.devices: list[DeviceRunner] = []  # the health reporter reads this same list
        self._specs: dict[str, dict[str, Any]] = {}
        self._started = False
        self.apply(config)
        agent_tags = {"city": self.city, "site": self.gateway.site, "gateway": gateway_id}
        self.health = HealthReporter(
            agent_tags,
            self.buffer,
            self.uplink,
            self.devices,
            self.clock,
            self.buffer.put,
            options.health_interval_s,
            self._health_counters,
        )

    def _spec(self, gateway: Gateway, device: Device) -> dict[str, Any]:
        return {
            **device.model_dump(),
            "site": device.site or gateway.site,
            "port": self.overrides.get(device.id, device.port),
        }

    def _runner(self, gateway: Gateway, device: Device) -> DeviceRunner:
        family = registry.get(device.family)
        # The config loader has validated the options; this turns them into the family's model.
        options = family.options.model_validate(device.options) if family.options else device.options
        state_dir = self.state_dir / device.id
        state_dir.mkdir(parents=True, exist_ok=True)
        ctx = DeviceContext(
            device.id,
            self.overrides.get(device.id, device.port),
            device.baudrate,
            device.poll_interval_s,
            options,
            state_dir,
            publish_event=self.publish_event,
            shared_dir=self.shared_dir,
        )
        tags = {
            "city": self.city,
            "site": device.site or gateway.site,
            "gateway": gateway.id,
            "device": device.id,
        }
        return DeviceRunner(family, ctx, tags, self.buffer.put, self.clock.check)

    def apply(self, config: CityConfig) -> list[str]:
        """Run the devices ``config`` gives this gateway; returns the ids started or restarted."""
        gateway = find_gateway(config, self.gateway.id)
        wanted = {d.id: (d, self._spec(gateway, d)) for d in gateway.devices}
        keep: list[DeviceRunner] = []
        for runner in self.devices:
            device_id = runner.ctx.device_id
            if device_id in wanted and wanted[device_id][1] == self._specs.get(device_id):
                keep.append(runner)
            elif self._started:
                runner.stop()
        kept = {r.ctx.device_id for r in keep}
        changed: list[str] = []
        for device_id, (device, spec) in wanted.items():
            if device_id in kept:
                continue
            runner = self._runner(gateway, device)
            keep.append(runner)
            self._specs[device_id] = spec
            changed.append(device_id)
            if self._started:
                runner.start()
        order = list(wanted)
        self._specs = {device_id: self._specs[device_id] for device_id in wanted}
        self.devices[:] = sorted(keep, key=lambda r: order.index(r.ctx.device_id))
        self.gateway = gateway
        if self._started:
            self._sync_uploads()
        if changed and self._started:
            log.info("gateway %s: config applied; started %s", gateway.id, ", ".join(changed))
        return changed

    def publish_event(self, payload: bytes) -> None:
        """A device event on MQTT ``events`` (QoS 1), from a device's thread; never blocks or raises.

        Events are a notification for the wall: paho queues them while the broker is away and sends
        them on reconnect, but they are not buffered on disk. The durable record of every camera state
        is ``camera_health.state`` in the buffer, reported at once on each change and every interval.
        """
        sent = False
        if isinstance(self.uplink, MqttUplink):
            try:
                info = self.uplink.client.publish(self.events_topic, payload, qos=1)
                # NO_CONN: queued by paho until the connection is back.
                sent = info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)
            except (ValueError, OSError, RuntimeError):  # a payload over MQTT's limit, a closing client
                log.exception("gateway %s: device event not published", self.gateway.id)
        with self._events_lock:
            if sent:
                self.events_published += 1
                return
            self.events_unpublished += 1
            count = self.events_unpublished
        if count == 1 or count % 100 == 0:
            log.warning(
                "gateway %s: %d device event(s) not published (%s); camera_health keeps every state",
                self.gateway.id,
                count,
                "no MQTT broker with a direct InfluxDB uplink"
                if not isinstance(self.uplink, MqttUplink)
                else "the MQTT client refused them",
            )

    def _health_counters(self) -> dict[str, int]:
        counters = {"events_unpublished": self.events_unpublished}
        if self.uploader is not None:
            from edge.camera.family import gateway_snapshots

            store = gateway_snapshots(self.shared_dir)
            counters["snapshots_sent"] = self.uploader.stats.sent
            counters["snapshots_lost"] = store.pruned_unsent + self.uploader.stats.discarded
        return counters

    def _sync_uploads(self) -> None:
        """One snapshot uploader while the gateway has a camera and a ``cloud_api``; restarted when
        that section changes."""
        has_camera = any(registry.get(d.family).transport == "camera" for d in self.gateway.devices)
        wanted = self.gateway.cloud_api if has_camera else None
        if self._uploads is not None and self._uploads[0] == wanted:
            return
        self._stop_uploads()
        if wanted is None:
            return
        # Camera code (OpenCV, urllib3) loads only on gateways with a camera and an API to send to.
        from edge.camera.family import gateway_snapshots
        from edge.camera.snapshot_upload import SnapshotUploader

        self.uploader = SnapshotUploader(
            gateway_snapshots(self.shared_dir),
            wanted.url,
            Path(wanted.token_file),
            ca_certs=Path(wanted.ca_file) if wanted.ca_file else None,
        )
        stop = threading.Event()
        thread = threading.Thread(target=self.uploader.run, args=(stop,), name="snapshot-upload", daemon=True)
        thread.start()
        self._uploads = (wanted, thread, stop)
        log.info("gateway %s: camera snapshots go to %s", self.gateway.id, wanted.url)

    def _stop_uploads(self) -> None:
        if self._uploads is not None:
            _, thread, stop = self._uploads
            stop.set()
            thread.join(timeout=30)  # at most one request in flight, bounded by its timeout
            self._uploads = None

    def start(self) -> EdgeAgent:
        self.buffer.start()
        self.uplink.start()
        for device in self.devices:
            device.start()
        self._started = True
        self._sync_uploads()
        self.health.start()
        return self

    def stop(self) -> None:
        self.health.stop()
        for device in self.devices:
            device.stop()
        self._stop_uploads()
        self.buffer.commit()
        self.uplink.stop()
        self.buffer.close()
