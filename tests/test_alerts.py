"""Alert rules against the real InfluxDB and Mosquitto: rule-file errors, every shipped rule firing
and resolving on written points, hysteresis, ``for``, no-data, acknowledgement, de-duplication of
weighings, and the sinks (alerts measurement, retained MQTT, Grafana annotations, webhook).

Evaluations run at a pinned ``NOW`` (1 March 2026, 00:00 UTC) with points written around it.
Grafana cannot be installed here: a small local HTTP server stands in for it (and for the webhook
receiver) and records what grafana-client and the webhook POST.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import typer
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from cloud.alerts import AlertService, AlertStore, GrafanaTarget, Rule, evaluate, load_rules, parse_rules
from cloud.alerts.cli import alerts_command
from cloud.alerts.loader import check_rules
from cloud.influx_query import InfluxQuery
from cloud.influx_writer import InfluxV1Writer
from cloud.points import to_line
from ioc.config import ConfigError
from ioc.reading import FieldValue, Reading
from ioc.services import InfluxDB, Mosquitto, free_port
from ioc.topics import alerts_topic

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "configs" / "alerts"
NS = 1_000_000_000
NOW = 1_772_323_200 * NS  # 2026-03-01T00:00:00Z

integration = [pytest.mark.integration, pytest.mark.timeout(60)]


# --- rule files ---------------------------------------------------------------------------------

BAD = """\
rules:
  - id: pm25
    title: {vi: Bụi, en: Dust}
    severty: major
    measurement: air_quality
    field: pm2_5
    above: 45
  - id: pm25
    title: {vi: Bụi, en: Dust}
    severity: majr
    measurement: air_qualty
    field: pm25
    above: 45
  - id: flash
    title: {vi: Nháy, en: Flash}
    severity: info
    measurement: traffic_signal
    field: mode
    where: {signal_grup: controller}
    equals: flashng
    fro: 5m
  - id: two
    title: {vi: Hai, en: Two}
    severity: info
    measurement: air_quality
    field: pm25
    window: 24 hours
  - id: three
    title: {vi: Ba, en: Three}
    severity: info
    measurement: air_quality
    field: pm25
    above: 45
    below: 3
  - id: four
    title: {vi: Bốn, en: Four}
    severity: info
    measurement: air_quality
    field: pm25
    above: 45
    clear_at: 50
"""


def test_rule_file_errors_name_line_key_and_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(BAD, "air.yaml")
    got = {(p.line, p.path): (p.message, p.suggestion) for p in caught.value.problems}
    assert got[(4, "rules[0].severty")] == ("unknown key", "severity")
    assert got[(2, "rules[0].severity")][0] == "required key is missing"
    assert got[(6, "rules[0].field")] == ("air_quality has no such field", "pm25")
    assert got[(8, "rules[1].id")][0] == "duplicate rule id 'pm25' (first defined at air.yaml:2)"
    assert got[(10, "rules[1].severity")][1] == "major"
    assert got[(11, "rules[1].measurement")][1] == "air_quality"
    assert got[(19, "rules[2].where.signal_grup")][1] == "signal_group"
    assert got[(20, "rules[2].equals")][1] == "flashing"
    assert got[(21, "rules[2].fro")] == ("unknown key", "for")
    assert "expected a duration like 30s" in got[(27, "rules[3].window")][0]
    assert "exactly one condition" in got[(28, "rules[4]")][0]
    assert got[(41, "rules[5].clear_at")][0] == "must be at or below the above threshold 45"
    text = str(caught.value)
    assert "air.yaml:4: rules[0].severty: unknown key — did you mean 'severity'?" in text


def test_rule_files_of_a_folder_share_ids_and_syntax_errors_have_lines(tmp_path: Path) -> None:
    rule = (
        "rules:\n"
        "  - {id: a, title: {vi: a, en: a}, severity: info, measurement: gateway, field: rss_mb, above: 9}\n"
    )
    (tmp_path / "one.yaml").write_text(rule)
    (tmp_path / "two.yaml").write_text(rule)
    (tmp_path / "three.yaml").write_text("rules:\n  - id: [unclosed\n")
    problems = check_rules(tmp_path)
    assert any(p.file.endswith("two.yaml") and "first defined at" in p.message for p in problems)
    assert any(
        p.file.endswith("three.yaml") and p.line is not None and "YAML syntax" in p.message for p in problems
    )
    assert "no such file or folder" in str(check_rules(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    assert "no rule files" in str(check_rules(tmp_path / "empty"))


def test_shipped_rules_load() -> None:
    assert check_rules(SHIPPED) == []
    ids = {rule.id for rule in load_rules(SHIPPED)}
    assert {"air-pm25-24h", "water-ph-low", "signal-conflict", "gateway-offline", "weigh-overload"} <= ids
    pm25 = next(r for r in load_rules(SHIPPED) if r.id == "air-pm25-24h")
    assert (pm25.above, pm25.window_s, pm25.aggregate) == (45, 24 * 3600, "mean")


# --- helpers ------------------------------------------------------------------------------------


def point(
    city: str, measurement: str, fields: dict[str, FieldValue], t: int, quality: str = "good", **tags: str
) -> Reading:
    base = {"city": city, "site": "s1", "gateway": "gw1", "device": "d1"}
    return Reading(measurement, base | tags, fields, t, quality)  # type: ignore[arg-type]


def write(influx: InfluxDB, database: str, readings: list[Reading]) -> None:
    InfluxV1Writer(influx.url, database).write([to_line(r) for r in readings])


def spread(city: str, measurement: str, fields: dict[str, FieldValue], end: int, window_s: int, n: int = 4,
           quality: str = "good", **tags: str) -> list[Reading]:  # fmt: skip
    """n points inside the window that ends at end."""
    step = window_s * NS // (n + 1)
    return [point(city, measurement, fields, end - i * step, quality, **tags) for i in range(n)]


def shipped(rule_id: str) -> Rule:
    return next(r for r in load_rules(SHIPPED) if r.id == rule_id)


@dataclass
class Case:
    measurement: str
    bad: dict[str, FieldValue]
    good: dict[str, FieldValue]
    tags: dict[str, str] = field(default_factory=dict)
    bad_quality: str = "good"
    good_quality: str = "good"
    bad_n: int = 4
    good_n: int = 4


CONTROLLER = {"signal_group": "controller"}
HASH = "ab" * 32
CASES: dict[str, Case] = {
    "air-pm25-24h": Case("air_quality", {"pm25": 60.0}, {"pm25": 20.0}),
    "air-pm10-24h": Case("air_quality", {"pm10": 150.0}, {"pm10": 40.0}),
    "air-no2-1h": Case("air_quality", {"no2": 250.0}, {"no2": 50.0}),
    "air-so2-1h": Case("air_quality", {"so2": 400.0}, {"so2": 50.0}),
    "air-o3-1h": Case("air_quality", {"o3": 250.0}, {"o3": 50.0}),
    "air-co-1h": Case("air_quality", {"co": 35000.0}, {"co": 5000.0}),
    "aqi-bad": Case(
        "aqi", {"aqi": 180, "dominant": "pm25"}, {"aqi": 60, "dominant": "pm25"}, {"kind": "hourly"}
    ),
    "water-ph-low": Case("water_quality", {"pH": 5.5}, {"pH": 7.0}),
    "water-ph-high": Case("water_quality", {"pH": 9.0}, {"pH": 7.0}),
    "water-do-low": Case("water_quality", {"dissolvedOxygen": 3.0}, {"dissolvedOxygen": 6.0}),
    "water-bod5-high": Case("water_quality", {"bod5": 15.0}, {"bod5": 3.0}),
    "water-cod-high": Case("water_quality", {"cod": 30.0}, {"cod": 10.0}),
    "water-station-calibrating": Case("water_quality", {"pH": 7.0}, {"pH": 7.0}, bad_quality="calibrating"),
    "water-station-device-error": Case("water_quality", {"pH": 7.0}, {"pH": 7.0}, bad_quality="device_error"),
    "water-completeness": Case("water_quality", {"pH": 7.0}, {"pH": 7.0}, bad_n=4, good_n=12),
    "signal-conflict": Case(
        "traffic_signal", {"conflict": True, "mode": "auto"}, {"conflict": False}, CONTROLLER
    ),
    "signal-flashing": Case("traffic_signal", {"mode": "flashing"}, {"mode": "auto"}, CONTROLLER),
    "signal-lost-contact": Case("traffic_signal", {"mode": "auto"}, {"mode": "auto"}, CONTROLLER),
    "gateway-offline": Case("gateway", {"buffer_depth": 0}, {"buffer_depth": 0}, {"device": "agent"}),
    "gateway-backlog": Case(
        "gateway", {"oldest_unsent_s": 900.0}, {"oldest_unsent_s": 1.0}, {"device": "agent"}
    ),
    "weigh-overload": Case(
        "weighing",
        {"overload": True, "gross_kg": 52000.0, "record_hash": HASH},
        {"overload": False, "gross_kg": 30000.0, "record_hash": "cd" * 32},
        bad_n=1,
        good_n=1,
    ),
    "camera-health": Case(
        "camera_health", {"state": "covered", "online": True}, {"state": "ok", "online": True}
    ),
    "camera-no-data": Case("camera_health", {"online": True}, {"online": True}),
}


def test_every_shipped_rule_has_a_case() -> None:
    assert {r.id for r in load_rules(SHIPPED)} == set(CASES)


def _points(rule: Rule, case: Case, city: str, end: int, bad: bool) -> list[Reading]:
    fields, quality, n = (
        (case.bad, case.bad_quality, case.bad_n) if bad else (case.good, case.good_quality, case.good_n)
    )
    if rule.no_data is not None:  # silent since no_data + 1 min, or heard from 5 s ago
        when = end - (rule.no_data + 60) * NS if bad else end - 5 * NS
        return [point(city, case.measurement, fields, when, quality, **case.tags)]
    return spread(city, case.measurement, fields, end, rule.window_s, n, quality, **case.tags)


@pytest.mark.parametrize("rule_id", sorted(CASES))
@pytest.mark.integration
@pytest.mark.timeout(60)
def test_shipped_rule_fires_and_resolves(
    rule_id: str, influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule, case = shipped(rule_id), CASES[rule_id]
    query, store = InfluxQuery(influx.url, database), AlertStore(tmp_path / "state.sqlite")
    write(influx, database, _points(rule, case, city_id, NOW, bad=True))
    if rule.for_:  # pending first: the condition holds, but not yet for long enough
        assert evaluate([rule], query, NOW - rule.for_ * NS, store) == []
    fired = evaluate([rule], query, NOW, store)
    assert [(t.rule, t.state, t.previous) for t in fired] == [(rule_id, "firing", None)]
    assert fired[0].tags["city"] == city_id and rule.title.vi in fired[0].message
    assert evaluate([rule], query, NOW + 1 * NS, store) == []  # de-duplicated: still firing
    later = NOW + 2 * rule.window_s * NS + 3600 * NS
    write(influx, database, _points(rule, case, city_id, later, bad=False))
    resolved = evaluate([rule], query, later, store)
    assert [(t.rule, t.state, t.previous) for t in resolved] == [(rule_id, "resolved", "firing")]
    assert store.active() == []


# --- engine behaviour on custom rules -----------------------------------------------------------

PM_RULE = """\
rules:
  - id: pm-test
    title: {vi: Bụi thử, en: Test dust}
    severity: minor
    measurement: air_quality
    field: pm25
    aggregate: last
    window: 10m
    above: 50
"""


def rule_of(text: str, **extra: str) -> Rule:
    lines = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return parse_rules(text + lines)[0]


def run_values(rule: Rule, values: list[tuple[int, float]], influx: InfluxDB, database: str, city: str,
               store: AlertStore) -> list[str]:  # fmt: skip
    """At each (minute, value): write the value then evaluate; the change each step made ('' for none)."""
    query, out = InfluxQuery(influx.url, database), []
    for minute, value in values:
        t = NOW + minute * 60 * NS
        write(influx, database, [point(city, "air_quality", {"pm25": value}, t)])
        changes = evaluate([rule], query, t, store)
        out.append(",".join(c.state for c in changes))
    return out


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_hysteresis_a_value_between_clear_at_and_the_threshold_does_not_flap(
    influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule = rule_of(PM_RULE, clear_at="45")
    store = AlertStore(tmp_path / "state.sqlite")
    values = [52, 48, 51, 49, 53, 44, 48, 50, 46, 51]
    steps = run_values(rule, list(enumerate(values)), influx, database, city_id, store)
    assert steps == ["firing", "", "", "", "", "resolved", "", "", "", "firing"]
    (active,) = store.active()
    assert active.value == 51 and active.state == "firing"


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_for_needs_the_condition_at_every_evaluation_for_that_long(
    influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule = rule_of(PM_RULE, **{"for": "5m"})
    store = AlertStore(tmp_path / "state.sqlite")
    # Met from minute 0, broken at 4 (pending forgotten), met again from 5: fires at 10, not 5.
    values = [(0, 60), (2, 60), (4, 40), (5, 60), (8, 60), (10, 60), (11, 60)]
    steps = run_values(rule, values, influx, database, city_id, store)
    assert steps == ["", "", "", "", "", "firing", ""]


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_no_data_fires_on_silence_and_stays_firing_past_the_lookback(
    influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule, query = shipped("gateway-offline"), InfluxQuery(influx.url, database)
    store = AlertStore(tmp_path / "state.sqlite")
    agent = {"device": "agent"}
    write(influx, database, [point(city_id, "gateway", {"buffer_depth": 3}, NOW, **agent)])
    assert evaluate([rule], query, NOW + 30 * NS, store) == []  # heard 30 s ago: fine
    (fired,) = evaluate([rule], query, NOW + 61 * NS, store)
    assert fired.state == "firing" and fired.tags == {
        "city": city_id,
        "site": "s1",
        "gateway": "gw1",
        "device": "agent",
    }
    assert "không có dữ liệu 61 s" in fired.message
    two_days = NOW + 2 * 86400 * NS  # the last point left the 24 h lookback: still offline
    assert evaluate([rule], query, two_days, store) == []
    assert [a.state for a in store.active()] == ["firing"]
    write(influx, database, [point(city_id, "gateway", {"buffer_depth": 0}, two_days, **agent)])
    (back,) = evaluate([rule], query, two_days + 10 * NS, store)
    assert (back.state, back.since_ns) == ("resolved", NOW + 61 * NS)


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_acknowledge_keeps_the_alert_until_it_clears(
    influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule = rule_of(PM_RULE)
    store = AlertStore(tmp_path / "state.sqlite")
    assert run_values(rule, [(0, 70)], influx, database, city_id, store) == ["firing"]
    (active,) = store.active()
    ack = store.acknowledge(active.key, "operator-lan", NOW + 30 * NS)
    assert ack is not None and (ack.state, ack.previous, ack.by) == ("acknowledged", "firing", "operator-lan")
    assert store.acknowledge(active.key, "someone-else") is None  # already acknowledged
    with pytest.raises(KeyError):
        store.acknowledge("pm-test|city=nowhere", "operator-lan")
    assert run_values(rule, [(1, 80)], influx, database, city_id, store) == [""]
    assert [(a.state, a.acknowledged_by, a.value) for a in store.active()] == [
        ("acknowledged", "operator-lan", 80)
    ]
    assert run_values(rule, [(2, 30)], influx, database, city_id, store) == ["resolved"]
    assert [t.state for t in store.history(active.key)] == ["resolved", "acknowledged", "firing"]


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_each_overloaded_weighing_alerts_once(
    influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    rule, query = shipped("weigh-overload"), InfluxQuery(influx.url, database)
    store = AlertStore(tmp_path / "state.sqlite")

    def weighing(i: int, overload: bool) -> Reading:
        fields: dict[str, FieldValue] = {
            "overload": overload,
            "gross_kg": 40000.0,
            "record_hash": f"{i:064x}",
        }
        return point(city_id, "weighing", fields, NOW - (100 - i) * NS)

    first = [weighing(1, True), weighing(2, False), weighing(3, True)]
    write(influx, database, first)
    fired = evaluate([rule], query, NOW, store)
    assert [(t.state, t.event) for t in fired] == [("firing", f"{1:064x}"), ("firing", f"{3:064x}")]
    assert fired[0].since_ns == NOW - 99 * NS  # the weighing's own time
    assert evaluate([rule], query, NOW + 30 * NS, store) == []
    write(influx, database, first)  # a gateway replays its backlog: same points, no new alerts
    assert evaluate([rule], query, NOW + 60 * NS, store) == []
    write(influx, database, [weighing(4, True)])
    assert [t.event for t in evaluate([rule], query, NOW + 90 * NS, store)] == [f"{4:064x}"]
    assert len(store.active()) == 3


# --- the service and its sinks ------------------------------------------------------------------


@dataclass
class Recorder:
    """Stands in for Grafana's HTTP API and a webhook receiver: records every POST."""

    url: str
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    fail_next_hook: int = 0  # answer 503 to this many webhook POSTs first
    hold_hook: threading.Event | None = None  # a slow receiver: wait for this before answering
    hook_entered: threading.Event = field(default_factory=threading.Event)

    def of(self, path: str) -> list[Any]:
        return [body for p, _h, body in self.requests if p == path]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            rec.requests.append((self.path, dict(self.headers), body))
            status = 200
            if self.path == "/hook":
                rec.hook_entered.set()
                if rec.hold_hook is not None:
                    rec.hold_hook.wait(30)
                if rec.fail_next_hook:
                    rec.fail_next_hook -= 1
                    status = 503
            answer = json.dumps({"id": len(rec.requests), "message": "Annotation added"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    if rec.hold_hook is not None:
        rec.hold_hook.set()
    server.shutdown()
    server.server_close()


def retained(broker: Mosquitto, topic: str) -> dict[str, Any]:
    got: list[dict[str, Any]] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        if msg.retain:
            got.append(json.loads(msg.payload))
            done.set()

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        assert done.wait(10), f"no retained message on {topic}"
    finally:
        client.disconnect()
        client.loop_stop()
    return got[0]


@pytest.fixture
def traffic_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(SHIPPED / "traffic.yaml", folder)
    return folder


def conflict_points(city: str, t: int, conflict: bool) -> list[Reading]:
    fields: dict[str, FieldValue] = {"conflict": conflict, "mode": "auto", "fault": int(conflict)}
    return [
        point(city, "traffic_signal", fields, t, "bad" if conflict else "good", signal_group="controller")
    ]


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_service_publishes_to_influx_mqtt_grafana_and_the_webhook(
    influx: InfluxDB, broker: Mosquitto, database: str, city_id: str, tmp_path: Path,
    traffic_rules: Path, recorder: Recorder,
) -> None:  # fmt: skip
    recorder.fail_next_hook = 1  # the webhook is retried
    service = AlertService(
        traffic_rules, InfluxQuery(influx.url, database), InfluxV1Writer(influx.url, database),
        (broker.host, broker.port), tmp_path / "state" / "alerts.sqlite",
        grafana=GrafanaTarget(recorder.url, "sa-token"), webhook=recorder.url + "/hook",
        clock=lambda: NOW + 60 * NS,  # when the operator acknowledges
    )  # fmt: skip
    try:
        assert service.mqtt.connected.wait(10)
        write(influx, database, conflict_points(city_id, NOW - 5 * NS, conflict=True))
        write(
            influx,
            database,
            [point(city_id, "traffic_signal", {"mode": "auto"}, NOW, signal_group="controller")],
        )
        changes = service.run_once(NOW)
        assert [(t.rule, t.state) for t in changes] == [("signal-conflict", "firing")]
        assert service.notifier.flush(30)

        (row,) = influx.rows('SELECT * FROM "alerts"', database)
        assert (row["rule"], row["severity"], row["state"], row["firing"]) == (
            "signal-conflict", "critical", "firing", True,
        )  # fmt: skip
        assert (row["city"], row["site"], row["gateway"], row["device"]) == (city_id, "s1", "gw1", "d1")
        assert "Xung đột đèn tín hiệu" in row["message"] and row["value"] == 1.0

        state = retained(broker, alerts_topic(city_id, "signal-conflict"))
        assert state["firing"] is True and state["severity"] == "critical"
        assert [a["tags"]["device"] for a in state["active"]] == ["d1"]

        (note,) = recorder.of("/api/annotations")
        assert {"ioc-alert", "signal-conflict", "critical", "firing", city_id} <= set(note["tags"])
        assert note["time"] == NOW // 1_000_000
        headers = next(h for p, h, _ in recorder.requests if p == "/api/annotations")
        assert headers["Authorization"] == "Bearer sa-token"
        hooks = recorder.of("/hook")
        assert len(hooks) == 2 and hooks[1]["state"] == "firing" and hooks[1]["key"] == changes[0].key

        ack = service.acknowledge(changes[0].key, "operator-lan")
        assert ack is not None
        assert (
            retained(broker, alerts_topic(city_id, "signal-conflict"))["active"][0]["state"] == "acknowledged"
        )

        later = NOW + 10 * 60 * NS
        write(influx, database, conflict_points(city_id, later - 5 * NS, conflict=False))
        assert [t.state for t in service.run_once(later)] == ["resolved"]
        assert service.notifier.flush(30)
        state = retained(broker, alerts_topic(city_id, "signal-conflict"))
        assert state["firing"] is False and state["active"] == [] and state["change"]["state"] == "resolved"
        states = [r["state"] for r in influx.rows('SELECT "state" FROM "alerts"', database)]
        assert states == ["firing", "acknowledged", "resolved"]
        region = recorder.of("/api/annotations")[-1]
        assert "resolved" in region["tags"] and region["time"] < region["timeEnd"]
    finally:
        service.close()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_changes_wait_in_the_outbox_while_influx_is_away_and_a_slow_webhook_does_not_block(
    influx: InfluxDB, broker: Mosquitto, database: str, city_id: str, tmp_path: Path,
    traffic_rules: Path, recorder: Recorder,
) -> None:  # fmt: skip
    recorder.hold_hook = threading.Event()
    away = InfluxV1Writer(f"http://127.0.0.1:{free_port()}", database)  # nothing listens there
    service = AlertService(
        traffic_rules, InfluxQuery(influx.url, database), away, (broker.host, broker.port),
        tmp_path / "alerts.sqlite", webhook=recorder.url + "/hook",
    )  # fmt: skip
    try:
        assert service.mqtt.connected.wait(10)
        write(influx, database, conflict_points(city_id, NOW - 5 * NS, conflict=True))
        assert [t.state for t in service.run_once(NOW)] == ["firing"]
        assert len(service.store.undispatched()) == 1 and recorder.requests == []
        service.influx.writer = InfluxV1Writer(influx.url, database)  # the database is back
        assert service.run_once(NOW + 30 * NS) == []  # nothing new, and the waiting change goes out
        assert service.store.undispatched() == []
        assert [r["state"] for r in influx.rows('SELECT "state" FROM "alerts"', database)] == ["firing"]
        # The webhook receiver is stuck in its handler, yet evaluation returned.
        assert recorder.hook_entered.wait(10) and not recorder.hold_hook.is_set()
        recorder.hold_hook.set()
        assert service.notifier.flush(30) and len(recorder.of("/hook")) == 1
    finally:
        service.close()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_alerts_command(influx: InfluxDB, broker: Mosquitto, database: str, city_id: str, tmp_path: Path,
                        traffic_rules: Path) -> None:  # fmt: skip
    app = typer.Typer()
    app.command()(alerts_command)
    runner = CliRunner()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text("rules:\n  - id: x\n    titel: {vi: a, en: a}\n")
    result = runner.invoke(app, ["--rules", str(bad), "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "x.yaml:3: rules[0].titel: unknown key — did you mean 'title'?" in text

    import time

    write(influx, database, conflict_points(city_id, time.time_ns() - 5 * NS, conflict=True))
    args = ["--rules", str(traffic_rules), "--influxdb", influx.url, "--database", database, "--once",
            "--broker", f"{broker.host}:{broker.port}", "--state", str(tmp_path / "s.sqlite")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "firing" in result.output and "1 active alerts" in result.output
