"""A reading made by the simulated SDS011 on a real pty travels edge → Mosquitto → ingest →
InfluxDB, and arrives with the right values, tags and timestamp — every one of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cloud.influx_writer import InfluxV1Writer
from cloud.ingest import IngestWorker
from edge.agent import AgentOptions, EdgeAgent
from firmware_bridge import registry
from ioc.config import load_city
from ioc.services import InfluxDB, Mosquitto
from tests.pipeline import ONE_SENSOR_CITY, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def stored(influx: InfluxDB, database: str) -> list[dict]:
    return influx.rows("SELECT * FROM air_quality GROUP BY *", database)


def test_sds011_reading_reaches_influxdb_with_values_tags_and_time(
    tmp_path: Path, broker: Mosquitto, influx: InfluxDB, database: str, city_id: str
) -> None:
    config_path = tmp_path / "city.yaml"
    config_path.write_text(ONE_SENSOR_CITY.format(city=city_id))
    city = load_city(config_path, families=registry.names())
    sim = registry.get("sds011").new_simulator(interval_s=0.1, seed=7)
    worker = IngestWorker(
        broker.host,
        broker.port,
        InfluxV1Writer(influx.url, database),
        worker_id=f"ingest-{city_id}",
        cities=city_id,
        session_expiry_s=0,
    ).start()
    agent = EdgeAgent(
        city, "gw01", AgentOptions(broker.host, broker.port, state_dir=tmp_path / "edge"), {"pm01": sim.port}
    )
    try:
        agent.start()
        # pyserial discards what waits in a port when it opens it, so start the device after.
        wait_for(
            lambda: (
                worker.connected.is_set()
                and agent.uplink.connected.is_set()
                and agent.devices[0].status.connected
            ),
            15,
            "MQTT connections and the open port",
        )
        sim.start()
        wait_for(lambda: len(sim.emitted) >= 30, 30, "30 frames from the simulator")
        sim.stop()
        emitted = list(sim.emitted)
        wait_for(
            lambda: len(stored(influx, database)) >= len(emitted), 30, f"{len(emitted)} points in InfluxDB"
        )
    finally:
        sim.stop()
        agent.stop()
        worker.stop()

    points = sorted(stored(influx, database), key=lambda p: p["time"])
    assert len(points) == len(emitted), "every frame is stored exactly once"
    for point, (sent_ns, fields) in zip(points, emitted, strict=True):
        assert (point["pm25"], point["pm10"]) == (fields["pm25"], fields["pm10"])
        assert {k: point[k] for k in ("city", "site", "gateway", "device")} == {
            "city": city_id,
            "site": "nga-sau",
            "gateway": "gw01",
            "device": "pm01",
        }
        assert point["quality"] == "good"
        # Timestamped at the edge when read: after the frame was written, and promptly.
        assert sent_ns <= point["time"] < sent_ns + 2_000_000_000
    assert worker.stats.rejected == 0
    assert agent.devices[0].status.produced == len(emitted)


def test_config_check_names_file_line_key_and_suggestion(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        ONE_SENSOR_CITY.format(city="bad")
        .replace("lat: 12.6675", "lattitude: 12.6675")
        .replace("family: sds011", "family: sds01")
    )
    result = subprocess.run(
        [sys.executable, "-m", "ioc", "config", "check", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    out = " ".join(result.stderr.split())
    assert f"{bad}:3" in out and "lattitude" in out and "did you mean 'lat'" in out
    assert f"{bad}:8" in out and "did you mean 'sds011'" in out


def test_agent_refuses_plain_mqtt_unless_the_config_says_so(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text(ONE_SENSOR_CITY.format(city="plain"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge",
            "run",
            str(config),
            "--gateway",
            "gw01",
            "--status",
            "off",
            "--state-dir",
            str(tmp_path / "edge"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "mqtt.plain: true" in " ".join(result.stderr.split())
