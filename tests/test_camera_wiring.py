"""Camera events and snapshots through a real edge agent: a camera device plays a generated clip whose
lens is covered mid-way; the event reaches a real Mosquitto on ``events`` and its JPEG reaches the real
cloud API (uvicorn, real HTTP) and comes back; with the direct InfluxDB uplink the event is counted as
not published while ``camera_health`` still records the state in InfluxDB."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent import SHARED_DIR, AgentOptions, EdgeAgent
from edge.camera.media import make_clip
from firmware_bridge import registry
from ioc import payload, topics
from ioc.config import CityConfig, ConfigError, parse_city
from ioc.services import InfluxDB, Mosquitto, free_port
from tests.cloud_api import Cloud, start_cloud
from tests.pipeline import wait_for

pytestmark = pytest.mark.timeout(60)

# Short hysteresis and baseline so the covered lens (from 3 s) is raised ~1 s later. The short clip's
# empty road is still for seconds once x264 has smoothed its noise, so "frozen" is off here.
CITY_YAML = """\
city: {{id: {city}, name: Thử nghiệm, province: Đắk Lắk}}
sites:
  - {{id: s1, name: Ngã Sáu, kind: traffic, lat: 12.6675, lon: 108.0383}}
gateways:
  - id: gw01
    site: s1
{cloud_api}    devices:
      - id: cam01
        family: camera
        port: {clip}
        options:
          health_interval_s: 1
          flow_interval_s: 2
          lanes:
            - {{name: "1", line: [[320, 105], [320, 165]], forward: [1, 0]}}
          health: {{baseline_s: 1, raise_s: 1, clear_s: 1, frozen_diff: 0}}
          snapshots: {{keep: 5}}
mqtt: {{commit_interval_s: 0.25, plain: true}}
"""


def city_yaml(city: str, clip: Path, api_url: str | None = None, token_file: Path | None = None) -> str:
    cloud_api = (
        f"    cloud_api: {{url: '{api_url}', token_file: '{token_file}', plain: true}}\n" if api_url else ""
    )
    return CITY_YAML.format(city=city, clip=clip, cloud_api=cloud_api)


def load(text: str) -> CityConfig:
    return parse_city(text, "city.yaml", registry.config_specs())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Covered from 3 s to the end; looped, the clean start clears it again.
    return make_clip(tmp_path_factory.mktemp("clip"), "covered", 8, 2, "covered", 3.0, seed=2).path


@pytest.fixture
def cloud_root(tmp_path: Path) -> Iterator[tuple[Path, list[Cloud]]]:
    clouds: list[Cloud] = []
    yield tmp_path / "cloud", clouds
    for cloud in clouds:
        cloud.stop()


class Subscriber:
    """Everything the gateway publishes, from a real MQTT client on the real broker."""

    def __init__(self, broker: Mosquitto, city: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, m.payload))
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.on_connect = lambda c, *_a: c.subscribe(f"{topics.PREFIX}/{city}/gw01/#", qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "not subscribed within 10 s"

    def until(self, found: Callable[[str, bytes], Any], timeout: float) -> tuple[Any, list[str]]:
        """The first truthy ``found(topic, payload)`` and the topics seen; AssertionError on timeout."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, data = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(topic)
            result = found(topic, data)
            if result:
                return result, seen
        raise AssertionError(f"nothing matched within {timeout} s; topics seen: {sorted(set(seen))}")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def covered_event(events_topic: str) -> Callable[[str, bytes], dict[str, Any] | None]:
    def found(topic: str, data: bytes) -> dict[str, Any] | None:
        if topic != events_topic:
            return None
        event = json.loads(data)
        return event if event.get("state") == "covered" else None

    return found


def covered_health(topic: str, data: bytes) -> bool:
    if not topic.endswith("/up"):
        return False
    return any(
        r.measurement == "camera_health" and r.fields.get("state") == "covered"
        for r in payload.decode(data).readings
    )


def test_event_on_mqtt_and_its_snapshot_in_the_cloud(
    broker: Mosquitto, city_id: str, clip: Path, tmp_path: Path, cloud_root: tuple[Path, list[Cloud]]
) -> None:
    port = free_port()
    token_file = tmp_path / "api-token"
    text = city_yaml(city_id, clip, f"http://127.0.0.1:{port}", token_file)
    cloud = start_cloud(cloud_root[0], text, port)
    cloud_root[1].append(cloud)
    token_file.write_text(cloud.upload_token + "\n")
    subscriber = Subscriber(broker, city_id)
    options = AgentOptions(broker.host, broker.port, state_dir=tmp_path / "edge", health_interval_s=60)
    agent = EdgeAgent(load(text), "gw01", options).start()
    try:
        events_topic = topics.topic(city_id, "gw01", "events")
        event, _ = subscriber.until(covered_event(events_topic), 30)
        assert event["type"] == "camera_state" and event["device"] == "cam01"
        assert event["previous"] == "ok" and event["snapshot"] == f"{event['time_ns']}.jpg"
        assert agent.events_published >= 1 and agent.events_unpublished == 0
        # The durable record of the state travels in the buffer's batches on `up`.
        subscriber.until(covered_health, 15)

        local = tmp_path / "edge" / "gw01" / SHARED_DIR / "snapshots" / "cam01"
        sent = local / f"{event['time_ns']}.sent.jpg"  # renamed once the cloud answered 2xx
        assert agent.uploader is not None
        wait_for(sent.exists, 15, f"{sent.name} uploaded (stats {agent.uploader.stats})")
        listed = json.loads(cloud.get("/api/v1/cameras/cam01/snapshots").data)
        downloads = [cloud.get(f"/api/v1/cameras/cam01/snapshots/{s['id']}") for s in listed]
        assert all(r.status == 200 and r.headers["content-type"] == "image/jpeg" for r in downloads)
        assert sent.read_bytes() in [r.data for r in downloads], "the event's picture, byte for byte"
        health = agent.health.snapshot()[0].fields  # the gateway's own point on the wall
        assert health["snapshots_sent"] >= 1 and health["snapshots_lost"] == 0
        picture = cv2.imdecode(np.frombuffer(sent.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        assert picture.shape == (360, 640) and picture.mean() < 20, "the covered lens"

        # A remote config without the section stops the uploads; the camera runs on untouched.
        uploads = agent._uploads
        assert uploads is not None
        assert agent.apply(load(city_yaml(city_id, clip))) == []
        assert agent._uploads is None and not uploads[1].is_alive()
    finally:
        agent.stop()
        subscriber.stop()


def test_direct_influxdb_uplink_counts_events_and_keeps_the_state(
    influx: InfluxDB, database: str, city_id: str, clip: Path, tmp_path: Path
) -> None:
    options = AgentOptions(
        "unused",
        0,
        state_dir=tmp_path / "edge",
        health_interval_s=60,
        direct_influxdb=(influx.url, database),
    )
    agent = EdgeAgent(load(city_yaml(city_id, clip)), "gw01", options).start()
    try:
        wait_for(lambda: agent.events_unpublished >= 1, 30, "the covered event, counted as not published")
        assert agent.events_published == 0 and agent.uploader is None
        assert agent.health.snapshot()[0].fields["events_unpublished"] >= 1, "shown on the wall"
        assert agent.devices[0].status.errors == 0, "the camera never failed"

        def covered_rows() -> list[dict[str, Any]]:
            q = "SELECT state FROM camera_health WHERE device = 'cam01' AND state = 'covered'"
            return influx.rows(q, database)

        wait_for(lambda: bool(covered_rows()), 15, "camera_health state=covered in InfluxDB")

        # Counts per lane and direction reach the database too, a row per interval, zeros included.
        def flow_keys() -> set[tuple[str, str]]:
            q = "SELECT intensity, occupancy FROM traffic_flow GROUP BY lane, direction"
            return {(r["lane"], r["direction"]) for r in influx.rows(q, database)}

        wait_for(lambda: flow_keys() == {("1", "forward"), ("1", "backward")}, 15, "traffic_flow rows")
        # No cloud API: the picture waits in the gateway's bounded store.
        store = tmp_path / "edge" / "gw01" / SHARED_DIR / "snapshots" / "cam01"
        assert [p for p in store.glob("*.jpg") if not p.name.endswith(".sent.jpg")]
    finally:
        agent.stop()


def test_cloud_api_section_is_checked_with_file_lines(clip: Path, tmp_path: Path) -> None:
    good = city_yaml("tst", clip, "https://ioc.example.vn/", tmp_path / "token")
    api = load(good).gateways[0].cloud_api
    assert api is not None and api.url == "https://ioc.example.vn/" and api.ca_file is None

    def problems(text: str) -> list[str]:
        with pytest.raises(ConfigError) as err:
            load(text)
        return [str(p) for p in err.value.problems]

    typo = good.replace("token_file:", "token_fil:")
    assert problems(typo) == [
        "city.yaml:7: gateways[0].cloud_api.token_file: required key is missing",
        "city.yaml:7: gateways[0].cloud_api.token_fil: unknown key — did you mean 'token_file'?",
    ]
    clear = good.replace("https://", "http://").replace(", plain: true", "")
    assert problems(clear) == [
        "city.yaml:7: gateways[0].cloud_api: url: http:// sends the token in clear; "
        "use https://, or set plain: true"
    ]
    assert (
        "city.yaml:7: gateways[0].cloud_api.url: expected the API's base URL"
        in problems(good.replace("https://ioc.example.vn/", "ioc.example.vn"))[0]
    )
