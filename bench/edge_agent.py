"""The edge agent on the common field workload: 100 Modbus TCP devices with 4 holding registers
each, polled every second, QoS 1 to Mosquitto, durable buffer on, ingest into InfluxDB.

Figures: the agent process's CPU % of one core and RSS at steady state; p99 latency from a
reading's timestamp to InfluxDB accepting it; then, after a simulated 1-hour outage (the buffer
pre-filled with an hour of this load), the backlog drain rate and the live readings' p99
latency during the drain. The agent runs as `ioc edge run`, exactly as on a gateway.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from bench.results import Figure
from cloud.influx_writer import InfluxV1Writer
from cloud.ingest import IngestWorker
from edge.buffer import DurableBuffer
from firmware_bridge import registry
from ioc.reading import Reading
from ioc.services import REPO_ROOT, InfluxDB, Mosquitto, free_port

CITY, GATEWAY = "benchcity", "bench-gw"
MAP = REPO_ROOT / "bench" / "maps" / "four-holding-registers.yaml"
UNITS_PER_SIMULATOR = 10  # 10 Modbus TCP servers × 10 unit ids


class LatencyProbe:
    """Readings' age when InfluxDB accepted them, split at a moment (live vs. backlog)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[float] = []
        self.since_ns = 0
        self.count = 0

    def __call__(self, readings: list[Reading]) -> None:
        now = time.time_ns()
        with self.lock:
            self.count += len(readings)
            self.samples += [
                (now - r.time_ns) / 1e9
                for r in readings
                if r.measurement == "air_quality" and r.time_ns >= self.since_ns
            ]

    def reset(self, since_ns: int) -> None:
        with self.lock:
            self.samples, self.since_ns = [], since_ns

    def p99(self) -> float:
        with self.lock:
            data = sorted(self.samples)
        return data[int(len(data) * 0.99) - 1] if data else float("nan")


def _config(path: Path, ports: list[str], devices: int) -> None:
    lines = [
        f"city: {{id: {CITY}, name: Bench, province: Bench}}",
        "sites: [{id: s1, name: Bench site, kind: air, lat: 12.67, lon: 108.04}]",
        "mqtt: {plain: true}  # the bench's broker is on loopback",
        "gateways:",
        f"  - id: {GATEWAY}",
        "    site: s1",
        "    devices:",
    ]
    for i in range(devices):
        port = ports[i // UNITS_PER_SIMULATOR]
        unit = i % UNITS_PER_SIMULATOR + 1
        lines.append(
            f"      - {{id: dev{i:03d}, family: modbus-air, port: '{port}', poll_interval_s: 1.0,"
            f" options: {{map: '{MAP}', unit: {unit}}}}}"
        )
    path.write_text("\n".join(lines) + "\n")


def _agent(
    config: Path, broker: Mosquitto, state: Path, status_port: int, log: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge",  # the agent's own entry point, as the systemd unit runs it
            "run",
            str(config),
            "--gateway",
            GATEWAY,
            "--broker",
            f"{broker.host}:{broker.port}",
            "--state-dir",
            str(state),
            "--status",
            f"127.0.0.1:{status_port}",
            "--no-remote-config",
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        env=dict(os.environ),
    )


def _status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as response:
        return json.load(response)


def _wait_status(port: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _status(port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _prefill(state: Path, devices: int, seconds: int) -> int:
    """An hour of this workload, as the buffer holds it after an outage."""
    buffer = DurableBuffer(state / GATEWAY / "buffer.sqlite")
    start = time.time_ns() - seconds * 1_000_000_000
    for s in range(seconds):
        for d in range(devices):
            tags = {"city": CITY, "site": "s1", "gateway": GATEWAY, "device": f"dev{d:03d}"}
            buffer.put(
                Reading(
                    "air_quality",
                    tags,
                    {"no2": 40.0, "so2": 10.0, "pm25": 35.0, "pm10": 60.0},
                    start + s * 1_000_000_000 + d,
                )
            )
        if s % 60 == 59:
            buffer.commit()
    buffer.close()
    return devices * seconds


def run(root: Path, devices: int = 100, steady_s: float = 60.0, outage_s: int = 3600) -> list[Figure]:
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    family = registry.get("modbus-air")
    with Mosquitto(root / "mosquitto") as broker, InfluxDB(root / "influxdb") as influx:
        influx.create_database("edge")
        sims = [
            family.new_simulator(
                interval_s=1.0,
                seed=i,
                measurement="air_quality",
                map=str(MAP),
                units=list(range(1, UNITS_PER_SIMULATOR + 1)),
                transport="tcp",
            )
            for i in range(devices // UNITS_PER_SIMULATOR)
        ]
        for sim in sims:
            sim.start()
        probe = LatencyProbe()
        worker = IngestWorker(
            broker.host, broker.port, InfluxV1Writer(influx.url, "edge"), "bench-edge-ingest", cities=CITY
        )
        worker.on_stored = probe
        worker.start()
        config = root / "city.yaml"
        _config(config, [sim.port for sim in sims], devices)
        try:
            # Steady state.
            status_port = free_port()
            agent = _agent(config, broker, root / "edge-steady", status_port, logs / "agent-steady.log")
            # Readings arriving tell the agent is up; the status page stays unvisited (it loads its
            # web stack on the first visit) until the steady-state figures are taken.
            deadline = time.monotonic() + 60
            while probe.count < devices * 5:
                if time.monotonic() > deadline or agent.poll() is not None:
                    raise RuntimeError(f"the agent did not start; see {logs / 'agent-steady.log'}")
                time.sleep(0.2)
            time.sleep(10)  # every device connected and polling
            process = psutil.Process(agent.pid)
            process.cpu_percent()
            probe.reset(time.time_ns())
            time.sleep(steady_s)
            cpu = process.cpu_percent()
            rss_mb = process.memory_info().rss / 1e6
            steady_p99 = probe.p99()
            readings = _wait_status(status_port)
            produced = sum(d["produced"] for d in readings["devices"])
            time.sleep(2)
            rss_viewed_mb = process.memory_info().rss / 1e6
            agent.terminate()
            agent.wait(30)

            # After an outage: the buffer holds an hour of this load; live polling goes on.
            backlog = _prefill(root / "edge-drain", devices, outage_s)
            status_port = free_port()
            agent = _agent(config, broker, root / "edge-drain", status_port, logs / "agent-drain.log")
            _wait_status(status_port)
            started = time.monotonic()  # the agent is up: from here it drains
            probe.reset(time.time_ns())
            while _status(status_port)["buffer_depth"] > devices * 2:
                if time.monotonic() - started > 900:
                    raise RuntimeError("the backlog did not drain in 15 minutes")
                time.sleep(0.2)
            drain_s = time.monotonic() - started
            drain_p99 = probe.p99()
            agent.terminate()
            agent.wait(30)
        finally:
            worker.stop()
            for sim in sims:
                sim.stop()
    workload = f"{devices} Modbus TCP devices × 4 registers at 1 Hz, QoS 1"
    return [
        Figure("edge_cpu", cpu, "% of one core", f"{workload}; target ≤ 5; ThingsBoard GW 3.8.5: 15–17"),
        Figure("edge_rss", rss_mb, "MB", f"{workload}; target ≤ 60; ThingsBoard GW 3.8.5: 67"),
        Figure(
            "edge_rss_page_viewed", rss_viewed_mb, "MB", "the same agent after its status page was opened"
        ),
        Figure(
            "edge_steady_p99_latency",
            steady_p99 * 1000,
            "ms",
            f"reading time → InfluxDB accepted, fsynced buffer; target ≤ 500 ({produced} readings)",
        ),
        Figure(
            "edge_backlog_drain",
            backlog / drain_s,
            "readings/s",
            f"{backlog:,} buffered readings (1 h of the workload) until the buffer is empty; target ≥ 50 000",
        ),
        Figure(
            "edge_live_p99_during_drain",
            drain_p99 * 1000,
            "ms",
            "live readings while draining; target ≤ 2 000",
        ),
    ]
