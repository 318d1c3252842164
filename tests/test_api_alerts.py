"""The API's alerts are the alert engine's: the real engine (``AlertService.run_once``) fills its
store from points in the real InfluxDB, the API lists and acknowledges through that same file, and
the engine publishes the acknowledgement (retained MQTT, alerts measurement) at its next round."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from cloud.alerts import AlertService, AlertStore
from cloud.api import create_app, create_token
from cloud.api.roles import Role
from cloud.influx_query import InfluxQuery
from cloud.influx_writer import InfluxV1Writer
from ioc.reading import Reading, now_ns
from ioc.services import InfluxDB, Mosquitto
from ioc.topics import alerts_topic
from tests.test_alerts import retained, write
from tests.test_api import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NS = 1_000_000_000
RULES = """\
rules:
  - id: pm-high
    title: {vi: Bụi cao, en: Dust high}
    severity: major
    measurement: air_quality
    field: pm25
    aggregate: last
    window: 10m
    above: 50
  - id: pm-slow
    title: {vi: Bụi cao kéo dài, en: Dust high for long}
    severity: minor
    measurement: air_quality
    field: pm25
    aggregate: last
    window: 10m
    above: 50
    for: 30m
"""


@dataclass
class Wall:
    client: TestClient
    service: AlertService
    broker: Mosquitto
    city: str
    tokens: dict[Role, str]

    def call(self, method: str, path: str, role: Role = Role.OPERATOR, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def alerts(self, **params: str) -> list[dict[str, Any]]:
        response = self.call("GET", "/api/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def acknowledge(self, key: str, role: Role = Role.OPERATOR) -> Any:
        return self.call("POST", f"/api/v1/alerts/{quote(key, safe='')}/acknowledge", role)


@pytest.fixture
def wall(tmp_path: Path, city_id: str, influx: InfluxDB, database: str, broker: Mosquitto) -> Iterator[Wall]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "air.yaml").write_text(RULES, encoding="utf-8")
    settings = settings_for(tmp_path, city_id, influx, database, broker)
    service = AlertService(
        rules, InfluxQuery(influx.url, database), InfluxV1Writer(influx.url, database),
        (broker.host, broker.port), settings.alerts_state_path,
    )  # fmt: skip
    app = create_app(settings)
    state = app.state.services.state
    tokens = {role: create_token(state, f"{role}@ioc.test", role, 1) for role in Role}
    with TestClient(app) as client:
        yield Wall(client, service, broker, city_id, tokens)
    service.close()


def dust(city: str, device: str, pm25: float, t: int, site: str = "s1", gateway: str = "gw01") -> Reading:
    tags = {"city": city, "site": site, "gateway": gateway, "device": device}
    return Reading("air_quality", tags, {"pm25": pm25}, t)


def test_list_and_acknowledge_through_the_engine(wall: Wall, influx: InfluxDB, database: str) -> None:
    city, service = wall.city, wall.service
    assert service.mqtt.connected.wait(10)
    t0 = now_ns()
    # Another city's device id holds a '/': its key reaches the API through an encoded path.
    elsewhere = f"{city}b"
    write(
        influx,
        database,
        [
            dust(city, "pm01", 80.0, t0 - 30 * NS),
            dust(city, "pm02", 120.0, t0 - 20 * NS, site="s2", gateway="gw02"),
            dust(elsewhere, "pm/03", 90.0, t0 - 10 * NS),
        ],
    )
    changes = service.run_once(t0)
    assert sorted((t.rule, t.tags["device"], t.state) for t in changes) == [
        ("pm-high", "pm/03", "firing"),
        ("pm-high", "pm01", "firing"),
        ("pm-high", "pm02", "firing"),
    ], "pm-slow is only pending: its 30 minutes have not passed"

    listed = wall.alerts(city=city)
    assert [(a["rule"], a["device"], a["state"]) for a in listed] == [
        ("pm-high", "pm02", "firing"),
        ("pm-high", "pm01", "firing"),
    ], "pending alerts are not shown; the newest change first (the engine spaces them by 1 ns)"
    pm01 = listed[1]
    assert pm01["key"] == f"pm-high|city={city},device=pm01,gateway=gw01,site=s1"
    assert (pm01["severity"], pm01["value"], pm01["site"], pm01["gateway"]) == ("major", 80.0, "s1", "gw01")
    assert (pm01["title_vi"], pm01["title_en"]) == ("Bụi cao", "Dust high")
    assert pm01["acknowledged_by"] is None and pm01["since"] == pm01["changed_at"]
    assert len(wall.alerts()) == 3 and wall.alerts(state="resolved") == []

    acked = wall.acknowledge(pm01["key"])
    assert acked.status_code == 200, acked.text
    who = acked.json()["acknowledged_by"]
    assert acked.json()["state"] == "acknowledged" and who.startswith("operator@ioc.test")
    stored = service.store.get(pm01["key"])
    assert stored is not None and (stored.state, stored.acknowledged_by) == ("acknowledged", who)
    [listed_ack] = wall.alerts(city=city, state="acknowledged")
    assert (listed_ack["key"], listed_ack["acknowledged_by"]) == (pm01["key"], who)
    assert listed_ack["acknowledged_at"] == acked.json()["acknowledged_at"]

    again = wall.acknowledge(pm01["key"], Role.ENGINEER)
    assert again.status_code == 409 and f"already acknowledged by {who}" in again.json()["detail"]
    assert wall.acknowledge(pm01["key"].replace("pm01", "nope")).status_code == 404
    assert wall.acknowledge(f"pm-slow|city={city},device=pm01,gateway=gw01,site=s1").status_code == 409
    assert wall.acknowledge(pm01["key"].replace("pm01", "pm02"), Role.TECHNICIAN).status_code == 403
    [slashed] = wall.alerts(city=elsewhere)
    assert wall.acknowledge(slashed["key"], Role.ADMIN).json()["device"] == "pm/03"
    audit = wall.call("GET", "/api/v1/audit", Role.ADMIN).json()
    acks = [(e["target"], e["who"][:9]) for e in audit if e["action"] == "alert.acknowledge"]
    assert acks == [(slashed["key"], "admin@ioc"), (pm01["key"], "operator@")], "refusals leave no row"

    # The engine's next round publishes the acknowledgement made through the API.
    assert service.run_once(t0 + 30 * NS) == [] and service.store.undispatched() == []
    rule_state = retained(wall.broker, alerts_topic(city, "pm-high"))
    assert {a["tags"]["device"]: (a["state"], a["acknowledged_by"]) for a in rule_state["active"]} == {
        "pm01": ("acknowledged", who),
        "pm02": ("firing", None),
    }
    states = influx.rows('SELECT "state" FROM "alerts" WHERE "device" = \'pm01\'', database)
    assert [r["state"] for r in states] == ["firing", "acknowledged"]

    t1 = t0 + 20 * 60 * NS
    write(
        influx, database, [dust(city, "pm01", 10.0, t1 - 30 * NS), dust(city, "pm02", 12.0, t1, "s2", "gw02")]
    )
    assert sorted(t.state for t in service.run_once(t1)) == ["resolved", "resolved", "resolved"]
    resolved = wall.alerts(city=city)
    assert [(a["device"], a["state"], a["acknowledged_by"]) for a in resolved] == [
        ("pm02", "resolved", None),
        ("pm01", "resolved", None),
    ]
    assert resolved[1]["since"] == pm01["since"], "since: when the episode began firing"
    assert wall.alerts(city=city, state="firing") == []
    assert wall.acknowledge(pm01["key"]).status_code == 409

    t2 = t1 + 60 * NS
    write(influx, database, [dust(city, "pm01", 95.0, t2)])
    service.run_once(t2)
    [again_firing] = wall.alerts(city=city, state="firing")
    assert again_firing["key"] == pm01["key"], "an acknowledgement does not outlive a resolve"


def test_a_missing_engine_store_is_a_clear_503_until_the_engine_creates_it(
    tmp_path: Path, city_id: str, influx: InfluxDB, database: str, broker: Mosquitto
) -> None:
    missing = tmp_path / "engine" / "alerts.sqlite"
    settings = settings_for(tmp_path, city_id, influx, database, broker).model_copy(
        update={"alerts_state_path": missing}
    )
    app = create_app(settings)
    tokens = {role: create_token(app.state.services.state, f"{role}@ioc.test", role, 1) for role in Role}
    with TestClient(app) as client:
        wall = Wall(client, None, broker, city_id, tokens)  # type: ignore[arg-type]  # no engine yet
        response = wall.call("GET", "/api/v1/alerts")
        assert response.status_code == 503 and str(missing) in response.json()["detail"]
        assert wall.acknowledge("r|city=x", Role.TECHNICIAN).status_code == 403, "the role first"
        assert wall.acknowledge("r|city=x").status_code == 503
        assert not missing.exists(), "the API never creates the engine's store"

        missing.parent.mkdir()
        AlertStore(missing).close()  # the engine starts
        assert wall.alerts() == [] and wall.acknowledge("r|city=x").status_code == 404
