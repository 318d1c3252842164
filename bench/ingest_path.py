"""Raw InfluxDB write rate vs. the path MQTT (QoS 1) → ingest worker → InfluxDB, in one run.

The baseline posts pre-built line protocol straight to ``/write`` in batches of 5 000 points.
The path publishes the same kind of readings as gateway batches of 50 from 50 simulated
gateways to Mosquitto; one `ioc cloud ingest` process (as deployed) writes them; the clock stops
when InfluxDB holds every point.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import psutil
from paho.mqtt.enums import CallbackAPIVersion

from bench.results import Figure
from cloud.influx_writer import InfluxV1Writer
from cloud.points import to_line
from ioc import payload, topics
from ioc.reading import Reading
from ioc.services import InfluxDB, Mosquitto

CITY = "bench"
GATEWAYS = 50
READINGS_PER_BATCH = 50
# A day ago, to the second: inside ingest's time window, and the same points within one run.
START_NS = (time.time_ns() // 1_000_000_000 - 86_400) * 1_000_000_000


def readings(count: int, gateways: int = GATEWAYS) -> list[Reading]:
    out = []
    for i in range(count):
        gw = i % gateways
        tags = {"city": CITY, "site": f"site-{gw}", "gateway": f"gw-{gw}", "device": f"pm-{gw}"}
        out.append(
            Reading(
                "air_quality",
                tags,
                {"pm25": 10.0 + i % 97, "pm10": 20.0 + i % 89},
                START_NS + (i // gateways) * 1_000_000_000,
            )
        )
    return out


def _count(influx: InfluxDB, database: str) -> int:
    rows = influx.rows("SELECT count(pm25) FROM air_quality WHERE device =~ /^pm-/", database)
    return int(rows[0]["count"]) if rows else 0


def raw_write_rate(influx: InfluxDB, points: int) -> float:
    influx.create_database("raw")
    writer = InfluxV1Writer(influx.url, "raw")
    lines = [to_line(r) for r in readings(points)]
    started = time.perf_counter()
    for i in range(0, len(lines), 5000):
        writer.write(lines[i : i + 5000])
    return points / (time.perf_counter() - started)


def _payloads(count: int) -> list[tuple[str, bytes]]:
    """Gateway batches, interleaved across gateways as they would arrive from the field."""
    by_gateway: dict[str, list[Reading]] = {}
    for r in readings(count):
        by_gateway.setdefault(r.tags["gateway"], []).append(r)
    per_gateway = [
        [
            (topics.topic(CITY, gw, "up"), payload.encode(gw, seq, items[start : start + READINGS_PER_BATCH]))
            for seq, start in enumerate(range(0, len(items), READINGS_PER_BATCH), 1)
        ]
        for gw, items in by_gateway.items()
    ]
    return [msg for round_ in itertools.zip_longest(*per_gateway) for msg in round_ if msg is not None]


def _spawn_worker(
    broker: Mosquitto, influx: InfluxDB, database: str, name: str, log: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ioc",
            "cloud",
            "ingest",
            "--broker",
            f"{broker.host}:{broker.port}",
            "--influxdb",
            influx.url,
            "--database",
            database,
            "--worker-id",
            name,
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@dataclass
class PathRun:
    rate: float  # readings/s, publish start → InfluxDB holds every point
    # CPU µs per stored reading of each process on the path: where this machine's cores went
    cpu_us: dict[str, float]


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def ingest_path_rate(
    broker: Mosquitto, influx: InfluxDB, points: int, logs: Path, workers: int = 1
) -> PathRun:
    database = f"path{workers}"
    influx.create_database(database)
    procs = [
        _spawn_worker(
            broker, influx, database, f"bench-ingest-{workers}-{i}", logs / f"ingest-{workers}-{i}.log"
        )
        for i in range(workers)
    ]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        # Until a worker has subscribed, a shared subscription drops what is published.
        warmup = Reading(
            "air_quality",
            {"city": CITY, "site": "w", "gateway": "gw-0", "device": "warmup"},
            {"pm25": 1.0},
            START_NS,
        )
        deadline = time.monotonic() + 30
        query = "SELECT count(pm25) FROM air_quality WHERE device = 'warmup'"
        while not influx.rows(query, database):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"ingest workers did not start; see {logs}")
            client.publish(topics.topic(CITY, "gw-0", "up"), payload.encode("gw-0", 0, [warmup]), qos=1)
            time.sleep(0.3)
        time.sleep(1.5)  # the other workers subscribe too
        messages = _payloads(points)
        assert influx.process is not None and broker.process is not None
        pids = {
            "ingest": [p.pid for p in procs],
            "influxdb": [influx.process.pid],
            "broker": [broker.process.pid],
            "publisher": [os.getpid()],  # the 50 gateways' paho client, and the count queries
        }
        cpu_before = {name: _cpu_s(group) for name, group in pids.items()}
        started = time.perf_counter()
        for topic, data in messages:
            client.publish(topic, data, qos=1)
        while _count(influx, database) < points:
            if time.perf_counter() - started > 600 or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"ingest stalled at {_count(influx, database)} of {points}; see {logs}")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        cpu_us = {name: 1e6 * (_cpu_s(group) - cpu_before[name]) / points for name, group in pids.items()}
        return PathRun(points / elapsed, cpu_us)
    finally:
        client.disconnect()
        client.loop_stop()
        for proc in procs:
            proc.terminate()
            proc.wait(15)


def run(root: Path, raw_points: int = 300_000, path_points: int = 200_000) -> list[Figure]:
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with Mosquitto(root / "mosquitto") as broker, InfluxDB(root / "influxdb") as influx:
        raw = raw_write_rate(influx, raw_points)
        one = ingest_path_rate(broker, influx, path_points, logs, workers=1)
        two = ingest_path_rate(broker, influx, path_points, logs, workers=2)
    workload = f"{GATEWAYS} gateways × batches of {READINGS_PER_BATCH}, QoS 1"
    return [
        Figure(
            "influxdb_raw_write",
            raw,
            "points/s",
            f"baseline: {raw_points:,} line-protocol points posted to /write",
        ),
        Figure(
            "mqtt_ingest_influxdb_1_worker",
            one.rate,
            "readings/s",
            f"{workload}, 1 worker; ratio to raw; target ≥ 0.6",
            ratio=one.rate / raw,
        ),
        Figure(
            "mqtt_ingest_influxdb_2_workers",
            two.rate,
            "readings/s",
            f"{workload}, 2 workers; ratio to raw",
            ratio=two.rate / raw,
        ),
        Figure(
            "ingest_cpu_per_reading_1_worker",
            one.cpu_us["ingest"],
            "µs CPU",
            "ingest process CPU per stored reading (MQTT receive, decode, checks, line protocol, ack)",
        ),
        Figure(
            "path_cpu_per_reading_1_worker",
            sum(one.cpu_us.values()),
            "µs CPU",
            ", ".join(f"{name} {us:.1f}" for name, us in one.cpu_us.items()),
        ),
        Figure(
            "cores_needed_at_target",
            0.6 * raw * sum(one.cpu_us.values()) / 1e6,
            "cores",
            f"0.6 × raw × the path's CPU per reading; this machine has {os.cpu_count()}",
        ),
    ]
