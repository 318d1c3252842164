"""The gateway agent: one reader per device, readings batched onto the uplink."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from edge.device_reader import SerialDeviceReader
from edge.uplink import MqttUplink
from firmware_bridge import registry
from ioc.config import CityConfig
from ioc.reading import Reading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentOptions:
    broker_host: str
    broker_port: int
    batch_max_readings: int = 500
    batch_interval_s: float = 1.0


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
        self.readers: list[SerialDeviceReader] = []
        for device in gateway.devices:
            port = overrides.get(device.id, device.port)
            if port is None:
                raise ValueError(f"device {device.id!r} has no port")
            tags = {
                "city": config.city.id,
                "site": device.site or gateway.site,
                "gateway": gateway.id,
                "device": device.id,
            }
            self.readers.append(
                SerialDeviceReader(registry.get(device.family), port, tags, self._accept, device.baudrate)
            )

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
        for reader in self.readers:
            reader.start()
        self._flusher.start()
        return self

    def stop(self) -> None:
        for reader in self.readers:
            reader.stop()
        self._stop.set()
        self._flusher.join(timeout=5)
        self.flush()
        self.uplink.stop()
