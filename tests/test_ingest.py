"""Cloud ingest against the real broker and database: workers share the load and store every
reading once; a corpus of malformed and hostile messages is refused with reasons while the good
readings around them land."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.influx_writer import InfluxV1Writer
from cloud.ingest import IngestWorker
from ioc import payload, topics
from ioc.reading import Reading
from ioc.services import InfluxDB, Mosquitto
from tests.pipeline import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def publisher(broker: Mosquitto) -> Iterator[mqtt.Client]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(500)
    client.connect(broker.host, broker.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def good(city: str, gateway: str, i: int, device: str = "pm01") -> Reading:
    tags = {"city": city, "site": "s1", "gateway": gateway, "device": device}
    return Reading(
        "air_quality", tags, {"pm25": float(i % 300), "pm10": 20.0}, time.time_ns() - 10**9 * 60 + i * 1000
    )


def workers(broker: Mosquitto, influx: InfluxDB, database: str, city: str, n: int) -> list[IngestWorker]:
    started = [
        IngestWorker(
            broker.host, broker.port, InfluxV1Writer(influx.url, database), f"ingest-{city}-{i}", cities=city
        ).start()
        for i in range(n)
    ]
    wait_for(lambda: all(w.connected.is_set() for w in started), 10, "workers subscribed")
    time.sleep(0.3)
    return started


def count(influx: InfluxDB, database: str, measurement: str = "air_quality") -> int:
    rows = influx.rows(f'SELECT count("quality") FROM "{measurement}"', database)
    return int(rows[0]["count"]) if rows else 0


def test_two_workers_share_the_load_and_store_each_reading_once(
    broker: Mosquitto, influx: InfluxDB, database: str, city_id: str, publisher: mqtt.Client
) -> None:
    pool = workers(broker, influx, database, city_id, 2)
    try:
        sent = 0
        for gw in range(10):
            gateway = f"gw{gw}"
            batch = [good(city_id, gateway, i, f"pm{gw}") for i in range(2000)]
            for seq, chunk in enumerate(payload.split(batch, 50)):
                publisher.publish(
                    topics.topic(city_id, gateway, "up"), payload.encode(gateway, seq, chunk), qos=1
                )
                sent += len(chunk)
        wait_for(lambda: count(influx, database) >= sent, 60, f"{sent} points")
        time.sleep(0.5)
        assert count(influx, database) == sent
        wait_for(lambda: sum(w.stats.points for w in pool) >= sent, 10, "the workers' counts")
        assert all(w.stats.points > 0 for w in pool), "both workers took part"
        assert sum(w.stats.points for w in pool) == sent, "no message was handled twice"
    finally:
        for w in pool:
            w.stop()


def hostile_corpus(city: str) -> list[tuple[str, bytes, str]]:
    """(topic, payload, reason fragment) for messages that must be refused."""
    up = topics.topic(city, "gw1", "up")
    r = json.loads(payload.encode("gw1", 1, [good(city, "gw1", 0)]))["readings"][0]

    def doc(**changes: object) -> bytes:
        return json.dumps({"v": 1, "gateway": "gw1", "seq": 1, "readings": [dict(r, **changes)]}).encode()

    now = time.time_ns()
    return [
        (up, b"\x00\xff garbage", "bad payload"),
        (up, b"{" * 10_000, "bad payload"),
        (up, b'{"v": 9, "gateway": "gw1", "seq": 1, "readings": []}', "unsupported payload version"),
        (up, b" " * (payload.MAX_PAYLOAD_BYTES + 10), "exceeds"),
        (
            up,
            json.dumps({"v": 1, "gateway": "gw2", "seq": 1, "readings": []}).encode(),
            "differs from the topic",
        ),
        (up, doc(m="drop_table"), "unknown measurement"),
        (up, doc(f={"pm25": "NaN"}), "must be a number"),
        (up, doc(f={"pm25": 1e12}), "plausible maximum"),
        (up, doc(f={"pm25": 1.0, "evil": 1.0}), "unknown field"),
        (up, doc(t=dict(r["t"], gateway="gw9")), "gateway tag differs"),
        (up, doc(t=dict(r["t"], city="other")), "city tag differs"),
        (up, doc(ts=now + 3600 * 10**9), "in the future"),
        (up, doc(ts=now - 500 * 86400 * 10**9), "400 days old"),
        (up, doc(ts=-5), "ts must be"),
        (up, doc(q="excellent"), "unknown quality"),
        (up, doc(t={"city": city, "x" * 100: "y"}), "tag key"),
    ]


def test_hostile_messages_are_refused_with_reasons_and_good_readings_land(
    broker: Mosquitto, influx: InfluxDB, database: str, city_id: str, publisher: mqtt.Client
) -> None:
    (worker,) = workers(broker, influx, database, city_id, 1)
    corpus = hostile_corpus(city_id)
    try:
        goods = 0
        for i, (topic, data, _reason) in enumerate(corpus):
            reading = good(city_id, "gw1", 1000 + i)
            publisher.publish(topics.topic(city_id, "gw1", "up"), payload.encode("gw1", i, [reading]), qos=1)
            publisher.publish(topic, data, qos=1)
            goods += 1
        wait_for(
            lambda: (
                count(influx, database) >= goods and count(influx, database, "ingest_rejects") >= len(corpus)
            ),
            30,
            "goods and rejects",
        )
        reasons = [row["reason"] for row in influx.rows('SELECT "reason" FROM "ingest_rejects"', database)]
        for _topic, _data, fragment in corpus:
            assert any(fragment in reason for reason in reasons), f"no reject saying {fragment!r}: {reasons}"
        assert count(influx, database) == goods
        # The worker counts a batch just after InfluxDB accepted it, so the count may trail a moment.
        wait_for(lambda: worker.stats.rejected >= len(corpus), 10, "the worker's reject count")
        assert worker.stats.rejected == len(corpus)
        assert worker._thread.is_alive(), "the worker is still running"
    finally:
        worker.stop()


def test_refused_messages_go_to_the_dead_letter_topic_with_reasons(
    broker: Mosquitto, influx: InfluxDB, database: str, city_id: str, publisher: mqtt.Client
) -> None:
    received: list[mqtt.MQTTMessage] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda _c, _u, msg: received.append(msg)
    watcher.connect(broker.host, broker.port)
    watcher.subscribe(topics.dead_letter_topic(city_id, "gw1"), qos=1)
    watcher.loop_start()
    (worker,) = workers(broker, influx, database, city_id, 1)
    try:
        time.sleep(0.3)
        publisher.publish(topics.topic(city_id, "gw1", "up"), b"not json at all", qos=1)
        wait_for(lambda: received, 10, "a dead letter")
        letter = received[0]
        assert letter.payload == b"not json at all"
        reasons = [v for k, v in letter.properties.UserProperty if k == "reason"]
        assert reasons and reasons[0].startswith("bad payload: not JSON")
    finally:
        worker.stop()
        watcher.disconnect()
        watcher.loop_stop()


def test_a_worker_stopped_for_good_strands_nothing(
    broker: Mosquitto, influx: InfluxDB, database: str, city_id: str, publisher: mqtt.Client
) -> None:
    """Scaling down: a stopped worker's persistent session must not keep a share of the group."""
    first, second = workers(broker, influx, database, city_id, 2)
    first.stop()
    try:
        batch = [good(city_id, "gw1", i) for i in range(1000)]
        for seq, chunk in enumerate(payload.split(batch, 50)):
            publisher.publish(topics.topic(city_id, "gw1", "up"), payload.encode("gw1", seq, chunk), qos=1)
        wait_for(
            lambda: count(influx, database) >= len(batch), 30, "every reading through the remaining worker"
        )
        # The worker counts a batch just after InfluxDB accepted it, so the count may trail a moment.
        wait_for(lambda: second.stats.points >= len(batch), 10, "the remaining worker's count")
        assert second.stats.points == len(batch), "all of it through the remaining worker"
    finally:
        second.stop()


def test_a_conversion_bug_refuses_the_message_and_the_worker_goes_on(
    broker: Mosquitto,
    influx: InfluxDB,
    database: str,
    city_id: str,
    publisher: mqtt.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Conversion runs on paho's network thread; an exception there must not end that thread."""
    import cloud.ingest

    real = cloud.ingest.message_to_readings

    def buggy(topic: str, data: bytes, reasons: dict[str, int]) -> tuple[list[Reading], int]:
        if b'"seq":666' in data:
            raise KeyError("a bug")  # injected: the one fault the real converter cannot be made to have
        return real(topic, data, reasons)

    monkeypatch.setattr(cloud.ingest, "message_to_readings", buggy)
    (worker,) = workers(broker, influx, database, city_id, 1)
    try:
        up = topics.topic(city_id, "gw1", "up")
        publisher.publish(up, payload.encode("gw1", 666, [good(city_id, "gw1", 1)]), qos=1)
        publisher.publish(up, payload.encode("gw1", 667, [good(city_id, "gw1", 2)]), qos=1)
        wait_for(lambda: count(influx, database) >= 1, 20, "the reading after the failing message")
        rows = influx.rows('SELECT "reason" FROM "ingest_rejects"', database)
        assert [r["reason"] for r in rows] == ["ingest error: KeyError: 'a bug'"]
        assert count(influx, database) == 1
        assert worker.connected.is_set()
    finally:
        worker.stop()
