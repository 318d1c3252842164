"""A whole pipeline for fault tests: simulated SDS011s → edge agent → Mosquitto → ingest →
InfluxDB, each part real and separately breakable, and the point-by-point loss check."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cloud.influx_writer import InfluxV1Writer
from cloud.ingest import IngestWorker
from edge.agent import AgentOptions, EdgeAgent
from firmware_bridge import registry
from firmware_bridge.registry import Simulator
from ioc.config import parse_city
from ioc.services import REPO_ROOT, InfluxDB, Mosquitto

CITY_YAML = """\
city: {{id: {city}, name: Thử nghiệm, province: Đắk Lắk}}
sites:
  - {{id: s1, name: Ngã Sáu, kind: air, lat: 12.6675, lon: 108.0383}}
gateways:
  - id: gw01
    site: s1
    devices:
{devices}
mqtt: {{commit_interval_s: 0.25, plain: true}}
"""


# One SDS011 on one gateway, no mqtt section (so no `plain: true`): the end-to-end and security
# tests, and the config-check test, whose line numbers point into it.
ONE_SENSOR_CITY = """\
city: {{id: {city}, name: Thành phố thử, province: Đắk Lắk}}
sites:
  - {{id: nga-sau, name: Ngã Sáu, kind: air, lat: 12.6675, lon: 108.0383}}
gateways:
  - id: gw01
    site: nga-sau
    devices:
      - {{id: pm01, family: sds011, port: /dev/serial/by-id/usb-sds011}}
"""


def city_yaml(city: str, devices: list[str]) -> str:
    lines = "\n".join(f"      - {{id: {d}, family: sds011, port: /dev/serial/by-id/{d}}}" for d in devices)
    return CITY_YAML.format(city=city, devices=lines)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@dataclass
class Pipeline:
    root: Path
    city: str
    devices: list[str]
    interval_s: float = 0.05
    broker: Mosquitto = field(init=False)
    influx: InfluxDB = field(init=False)
    sims: dict[str, Simulator] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)  # stable by-id style paths to the ptys
    agent: EdgeAgent | None = None
    worker: IngestWorker | None = None
    database: str = "ioc"

    def __post_init__(self) -> None:
        self.broker = Mosquitto(self.root / "mosquitto").start()
        self.influx = InfluxDB(self.root / "influxdb").start()
        self.influx.create_database(self.database)
        self.config_text = city_yaml(self.city, self.devices)
        self.config = parse_city(self.config_text, families=registry.config_specs())
        for device in self.devices:
            self.links[device] = self.root / "by-id" / device
            self.plug(device, start=False)

    # --- devices ---------------------------------------------------------------------------
    def plug(self, device: str, start: bool = True) -> Simulator:
        """A (new) device appears at its stable path, as a USB adapter does at /dev/serial/by-id."""
        sim = registry.get("sds011").new_simulator(interval_s=self.interval_s, seed=len(self.sims) + 1)
        previous = self.sims.get(device)
        self.sims[device] = sim
        self._history.setdefault(device, [])
        if previous is not None:
            self._history[device].append(previous)
        link = self.links[device]
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(sim.port)
        if start:
            sim.start()
        return sim

    def unplug(self, device: str) -> None:
        self.sims[device].stop()
        self.links[device].unlink()

    def emitted(self, device: str) -> list[tuple[int, dict]]:
        sims = [*self._history.get(device, []), self.sims[device]]
        return [item for sim in sims for item in sim.emitted]

    # --- parts -----------------------------------------------------------------------------
    def start_agent(self) -> EdgeAgent:
        options = AgentOptions(
            self.broker.host, self.broker.port, state_dir=self.root / "edge", commit_interval_s=0.25
        )
        overrides = {d: str(link) for d, link in self.links.items()}
        self.agent = EdgeAgent(self.config, "gw01", options, overrides).start()
        return self.agent

    def start_worker(self) -> IngestWorker:
        self.worker = IngestWorker(
            self.broker.host,
            self.broker.port,
            InfluxV1Writer(self.influx.url, self.database),
            worker_id=f"ingest-{self.city}",
            cities=self.city,
        ).start()
        return self.worker

    def spawn_worker(self) -> subprocess.Popen[bytes]:
        """An ingest worker in its own process, so a test can SIGKILL it."""
        log = (self.root / "ingest.log").open("ab")
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ioc",
                "cloud",
                "ingest",
                "--broker",
                f"{self.broker.host}:{self.broker.port}",
                "--influxdb",
                self.influx.url,
                "--database",
                self.database,
                "--worker-id",
                f"ingest-{self.city}",
                "--cities",
                self.city,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=dict(os.environ),
        )

    def ready(self) -> None:
        assert self.agent is not None
        wait_for(
            lambda: (
                self.agent.uplink.connected.is_set() and all(d.status.connected for d in self.agent.devices)
            ),
            20,
            "agent connected",
        )

    def start_devices(self) -> None:
        for sim in self.sims.values():
            sim.start()

    def stop(self) -> None:
        for sim in self.sims.values():
            sim.stop()
        if self.agent:
            self.agent.stop()
        if self.worker:
            self.worker.stop()
        self.broker.stop()
        self.influx.stop()

    # --- the check -------------------------------------------------------------------------
    def stored(self, device: str) -> list[dict]:
        return self.influx.rows(
            f"SELECT pm25, pm10 FROM air_quality WHERE device = '{device}'", self.database
        )

    def wait_all_stored(self, timeout: float = 60) -> None:
        def state() -> str:
            counts = {d: f"{len(self.stored(d))}/{len(self.emitted(d))}" for d in self.devices}
            agent = self.agent
            uplink = "-" if agent is None else (agent.uplink.connected.is_set(), agent.buffer.depth())
            worker = (
                "-" if self.worker is None else (self.worker.connected.is_set(), self.worker.stats.points)
            )
            return f"stored/emitted {counts}; uplink (connected, depth) {uplink}; worker {worker}"

        try:
            self._wait_all_stored(timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {state()}") from None

    def _wait_all_stored(self, timeout: float) -> None:
        wait_for(
            lambda: all(len(self.stored(d)) >= len(self.emitted(d)) for d in self.devices),
            timeout,
            "every emitted reading in InfluxDB",
        )

    def wait_all_stored_or_settled(self, quiet_s: float = 3.0, timeout: float = 60) -> None:
        """Until the stored counts stop changing (when some loss is allowed and measured)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = sum(len(self.stored(d)) for d in self.devices)
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.2)

    def assert_zero_loss(self) -> None:
        for device in self.devices:
            sent = [fields for _t, fields in self.emitted(device)]
            points = sorted(self.stored(device), key=lambda p: p["time"])
            assert len(points) == len(sent), f"{device}: {len(points)} stored vs {len(sent)} emitted"
            assert [{"pm25": p["pm25"], "pm10": p["pm10"]} for p in points] == sent

    _history: dict[str, list[Simulator]] = field(default_factory=dict)
