"""The gateway agent: one runner per device → the durable buffer → the uplink."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edge.buffer import DurableBuffer
from edge.devices import DeviceRunner
from edge.health import ClockWatch, HealthReporter
from edge.quota import Quota
from edge.uplink import MqttUplink
from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext
from ioc.config import CityConfig

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


class EdgeAgent:
    def __init__(
        self,
        config: CityConfig,
        gateway_id: str,
        options: AgentOptions,
        port_overrides: dict[str, str] | None = None,
    ) -> None:
        gateway = next((g for g in config.gateways if g.id == gateway_id), None)
        if gateway is None:
            known = ", ".join(g.id for g in config.gateways)
            raise ValueError(f"gateway {gateway_id!r} is not in the config (known: {known})")
        self.gateway = gateway
        self.options = options
        quota = Quota(int(options.quota_mb * 1e6)) if options.quota_mb else None
        self.buffer = DurableBuffer(
            options.state_dir / gateway.id / "buffer.sqlite", options.commit_interval_s, quota
        )
        self.uplink = MqttUplink(
            config.city.id,
            gateway.id,
            options.broker_host,
            options.broker_port,
            self.buffer,
            options.batch_max_readings,
            options.drain_rate,
        )
        self.buffer.on_commit = self.uplink.wake
        overrides = port_overrides or {}
        self.clock = ClockWatch()
        self.devices: list[DeviceRunner] = []
        for device in gateway.devices:
            family = registry.get(device.family)
            # The config loader has validated the options; this turns them into the family's model.
            options_value = (
                family.options.model_validate(device.options) if family.options else device.options
            )
            state_dir = options.state_dir / gateway.id / device.id
            state_dir.mkdir(parents=True, exist_ok=True)
            ctx = DeviceContext(
                device.id,
                overrides.get(device.id, device.port),
                device.baudrate,
                device.poll_interval_s,
                options_value,
                state_dir,
            )
            tags = {
                "city": config.city.id,
                "site": device.site or gateway.site,
                "gateway": gateway.id,
                "device": device.id,
            }
            self.devices.append(DeviceRunner(family, ctx, tags, self.buffer.put, self.clock.check))
        agent_tags = {"city": config.city.id, "site": gateway.site, "gateway": gateway.id}
        self.health = HealthReporter(
            agent_tags,
            self.buffer,
            self.uplink,
            self.devices,
            self.clock,
            self.buffer.put,
            options.health_interval_s,
        )

    def start(self) -> EdgeAgent:
        self.buffer.start()
        self.uplink.start()
        for device in self.devices:
            device.start()
        self.health.start()
        return self

    def stop(self) -> None:
        self.health.stop()
        for device in self.devices:
            device.stop()
        self.buffer.commit()
        self.uplink.stop()
        self.buffer.close()
