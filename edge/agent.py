"""The gateway agent: one runner per device → the durable buffer → the uplink.

``apply`` changes the devices of a running agent without a restart (remote config): a device
whose settings did not change keeps running untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.buffer import DurableBuffer
from edge.devices import DeviceRunner
from edge.health import ClockWatch, HealthReporter
from edge.quota import Quota
from edge.uplink import MqttUplink
from edge.uplink_base import LaneSender
from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext
from ioc.config import CityConfig, Device, Gateway, TlsFiles

log = logging.getLogger(__name__)


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
        if changed and self._started:
            log.info("gateway %s: config applied; started %s", gateway.id, ", ".join(changed))
        return changed

    def start(self) -> EdgeAgent:
        self.buffer.start()
        self.uplink.start()
        for device in self.devices:
            device.start()
        self._started = True
        self.health.start()
        return self

    def stop(self) -> None:
        self.health.stop()
        for device in self.devices:
            device.stop()
        self.buffer.commit()
        self.uplink.stop()
        self.buffer.close()
