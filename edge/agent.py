"""The gateway agent: one runner per device, readings batched onto the uplink."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from edge.devices import DeviceRunner
from edge.uplink import MqttUplink
from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext
from ioc.config import CityConfig
from ioc.reading import Reading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentOptions:
    broker_host: str
    broker_port: int
    batch_max_readings: int = 500
    batch_interval_s: float = 1.0
    state_dir: Path = Path("var/edge")  # device state that must survive restarts (ledgers, chains)


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
        self.uplink = MqttUplink(
            config.city.id, gateway.id, options.broker_host, options.broker_port, options.batch_max_readings
        )
        self._pending: list[Reading] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="uplink-batcher", daemon=True)
        overrides = port_overrides or {}
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
            self.devices.append(DeviceRunner(family, ctx, tags, self._accept))

    def _accept(self, reading: Reading) -> None:
        with self._lock:
            self._pending.append(reading)
            full = len(self._pending) >= self.options.batch_max_readings
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self.uplink.send(batch)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.options.batch_interval_s):
            self.flush()

    def start(self) -> EdgeAgent:
        self.uplink.start()
        for device in self.devices:
            device.start()
        self._flusher.start()
        return self

    def stop(self) -> None:
        for device in self.devices:
            device.stop()
        self._stop.set()
        self._flusher.join(timeout=5)
        self.flush()
        self.uplink.stop()
