"""The operations center's API against the real InfluxDB and Mosquitto: every endpoint, every role
allowed and refused (from the same table the README's role table is generated from), bad tokens,
size and rate limits, a config PUT reaching a real subscriber retained."""

from __future__ import annotations

import json
import queue
import sqlite3
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import typer
import uvicorn
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from cloud.alerts import AlertStore
from cloud.api import ApiSettings, BrokerAddress, create_app, create_token
from cloud.api.cli import api_command, tokens_command
from cloud.api.deps import Services
from cloud.api.roles import ENDPOINTS, Endpoint, Permission, Role, allowed, role_table
from cloud.api.routes import admin, alerts, cities, configs, enrolment, snapshots
from cloud.api.state import State
from cloud.api.tokens import list_tokens
from cloud.influx_writer import InfluxV1Writer
from cloud.points import to_line
from cloud.security.accounts import Registry
from cloud.security.broker import SecureMosquitto
from cloud.security.certs import init_certs
from ioc import topics
from ioc.reading import Reading, now_ns
from ioc.services import REPO_ROOT, InfluxDB, Mosquitto, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CITY_YAML = """\
city: {{id: {city}, name: Thử nghiệm, province: Đắk Lắk}}
sites:
  - id: s1
    name: Ngã Sáu
    kind: air
    lat: 12.6675
    lon: 108.0383
  - {{id: s2, name: Sông Sêrêpốk, kind: water, lat: 12.69, lon: 108.05}}
gateways:
  - id: gw01
    site: s1
    devices:
      - {{id: pm01, family: sds011, port: /dev/serial/by-id/pm01}}
      - {{id: cam01, family: sds011, port: /dev/serial/by-id/cam01}}
  - id: gw02
    site: s2
    devices:
      - {{id: pm02, family: sds011, port: /dev/serial/by-id/pm02}}
"""
KIND_LINE = 5  # the line of "kind: air" above, where the typo test puts its typo
JPEG = b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9"
MIB = 1024 * 1024


@dataclass
class Api:
    client: TestClient
    svc: Services
    city: str
    text: str
    tokens: dict[Role, str]

    def headers(self, role: Role | str) -> dict[str, str]:
        token = self.tokens[Role(role)] if role in set(Role) else role
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, role: Role | str = Role.ADMIN, **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


def settings_for(
    root: Path, city: str, influx: InfluxDB, database: str, mosquitto: Mosquitto, **kw: Any
) -> ApiSettings:
    (root / "configs" / "cities").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "cities" / f"{city}.yaml").write_text(CITY_YAML.format(city=city), encoding="utf-8")
    defaults: dict[str, Any] = {
        "configs_dir": root / "configs",
        "state_path": root / "state" / "api.db",
        "influxdb_url": influx.url,
        "database": database,
        "broker": BrokerAddress(host=mosquitto.host, port=mosquitto.port),
        "alerts_state_path": root / "alerts" / "state.sqlite",
    }
    settings = ApiSettings(**{**defaults, **kw})
    # The alert engine's store, empty, as the engine leaves it at its start: the API never creates it.
    settings.alerts_state_path.parent.mkdir(parents=True, exist_ok=True)
    AlertStore(settings.alerts_state_path).close()
    return settings


@pytest.fixture
def make_api(
    tmp_path: Path, city_id: str, influx: InfluxDB, database: str, broker: Mosquitto
) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        app = create_app(settings_for(tmp_path, city_id, influx, database, broker, **overrides))
        client = TestClient(app)
        clients.append(client)
        svc: Services = app.state.services
        tokens = {role: create_token(svc.state, f"{role}@ioc.test", role, 30) for role in Role}
        return Api(client, svc, city_id, CITY_YAML.format(city=city_id), tokens)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


def write(influx: InfluxDB, database: str, *readings: Reading) -> None:
    InfluxV1Writer(influx.url, database).write([to_line(r) for r in readings])


def tags(api: Api, gateway: str, device: str, site: str = "s1", **extra: str) -> dict[str, str]:
    return {"city": api.city, "site": site, "gateway": gateway, "device": device, **extra}


# --- registry, fleet, indices ------------------------------------------------------------------


def test_registry(api: Api) -> None:
    cities = api.call("GET", "/api/v1/cities", Role.OPERATOR).json()
    assert [(c["id"], c["sites"], c["gateways"], c["devices"]) for c in cities] == [(api.city, 2, 2, 3)]
    assert api.call("GET", f"/api/v1/cities/{api.city}").json()["name"] == "Thử nghiệm"
    sites = api.call("GET", f"/api/v1/cities/{api.city}/sites").json()
    assert [(s["id"], s["kind"]) for s in sites] == [("s1", "air"), ("s2", "water")]
    gateways = api.call("GET", f"/api/v1/cities/{api.city}/gateways").json()
    assert gateways == [
        {"id": "gw01", "site": "s1", "devices": ["pm01", "cam01"]},
        {"id": "gw02", "site": "s2", "devices": ["pm02"]},
    ]
    devices = api.call("GET", f"/api/v1/cities/{api.city}/devices").json()
    assert [(d["id"], d["gateway"], d["site"], d["family"]) for d in devices] == [
        ("pm01", "gw01", "s1", "sds011"),
        ("cam01", "gw01", "s1", "sds011"),
        ("pm02", "gw02", "s2", "sds011"),
    ]
    missing = api.call("GET", "/api/v1/cities/nowhere/sites")
    assert missing.status_code == 404 and api.city in missing.json()["detail"]


def test_fleet(api: Api, influx: InfluxDB, database: str) -> None:
    empty = api.call("GET", f"/api/v1/cities/{api.city}/fleet").json()
    assert [(g["id"], g["online"], g["last_seen"]) for g in empty["gateways"]] == [
        ("gw01", False, None),
        ("gw02", False, None),
    ]
    now = now_ns()
    write(
        influx,
        database,
        Reading(
            "gateway",
            tags(api, "gw01", "agent"),
            {"buffer_depth": 12, "oldest_unsent_s": 3.5, "uplink_connected": True},
            now - 10**9,
        ),
        Reading(
            "gateway",
            tags(api, "gw01", "agent"),
            {"buffer_depth": 99, "oldest_unsent_s": 1.0},
            now - 20 * 10**9,
        ),
        Reading(
            "gateway",
            tags(api, "gw02", "agent", "s2"),
            {"buffer_depth": 5000, "oldest_unsent_s": 400.0},
            now - 300 * 10**9,
        ),
        Reading("gateway", tags(api, "gw01", "pm01"), {"produced": 200, "dropped": 10}, now - 10**9),
    )
    fleet = api.call("GET", f"/api/v1/cities/{api.city}/fleet", Role.TECHNICIAN).json()
    gw01, gw02 = fleet["gateways"]
    assert (gw01["online"], gw01["buffer_depth"], gw01["oldest_unsent_s"], gw01["uplink_connected"]) == (
        True,
        12,
        3.5,
        True,
    )
    assert (gw02["online"], gw02["buffer_depth"]) == (False, 5000), "last seen 5 minutes ago: offline"
    pm01, cam01 = gw01["devices"]
    assert (pm01["produced"], pm01["dropped"], pm01["completeness"]) == (200, 10, 0.95)
    assert (cam01["produced"], cam01["last_seen"]) == (None, None)


def test_indices_empty_then_latest(api: Api, influx: InfluxDB, database: str) -> None:
    for index in ("aqi", "wqi"):
        assert api.call("GET", f"/api/v1/cities/{api.city}/{index}").json() == []
    now = now_ns()
    write(
        influx,
        database,
        Reading(
            "aqi",
            tags(api, "gw01", "pm01", kind="hourly"),
            {"aqi": 80, "dominant": "pm25", "pm25": 80, "pm10": 40},
            now - 7200 * 10**9,
        ),
        Reading(
            "aqi",
            tags(api, "gw01", "pm01", kind="hourly"),
            {"aqi": 152, "dominant": "pm25", "pm25": 152},
            now - 3600 * 10**9,
        ),
        Reading(
            "aqi",
            tags(api, "gw01", "pm01", kind="daily"),
            {"aqi": 101, "dominant": "pm10", "pm10": 101},
            now - 3600 * 10**9,
        ),
        Reading("wqi", tags(api, "gw02", "pm02", "s2"), {"wqi": 64}, now),
    )
    aqi = api.call("GET", f"/api/v1/cities/{api.city}/aqi").json()
    assert [(a["site"], a["kind"], a["aqi"], a["dominant"], a["sub_indices"]) for a in aqi] == [
        ("s1", "daily", 101, "pm10", {"pm10": 101}),
        ("s1", "hourly", 152, "pm25", {"pm25": 152}),
    ]
    assert [(w["site"], w["wqi"]) for w in api.call("GET", f"/api/v1/cities/{api.city}/wqi").json()] == [
        ("s2", 64)
    ]


def test_influxdb_away_is_a_clear_503(make_api: Callable[..., Api]) -> None:
    api = make_api(influxdb_url="http://127.0.0.1:9")  # discard port: nothing listens
    response = api.call("GET", f"/api/v1/cities/{api.city}/fleet")
    assert response.status_code == 503 and "InfluxDB unreachable" in response.json()["detail"]


# --- alerts: tests/test_api_alerts.py (through the real alert engine) ---------------------------


# --- config versions ---------------------------------------------------------------------------


def test_validate_names_the_line_of_a_typo(api: Api) -> None:
    lines = api.text.splitlines(keepends=True)
    assert lines[KIND_LINE - 1].strip() == "kind: air"
    lines[KIND_LINE - 1] = lines[KIND_LINE - 1].replace("kind:", "knd:")
    url = f"/api/v1/cities/{api.city}/configs/validate"
    result = api.call("POST", url, Role.ENGINEER, content="".join(lines).encode()).json()
    assert result["ok"] is False
    assert {
        "line": KIND_LINE,
        "key": "sites[0].knd",
        "message": "unknown key",
        "suggestion": "kind",
    } in result["problems"]
    assert api.call("POST", url, Role.ENGINEER, content=api.text.encode()).json() == {
        "ok": True,
        "problems": [],
    }
    other_city = api.text.replace(f"id: {api.city},", "id: elsewhere,")
    [problem] = api.call("POST", url, content=other_city.encode()).json()["problems"]
    assert (problem["line"], problem["key"]) == (1, "city.id")
    assert api.call("POST", url, content=b"\xff\xfe").status_code == 422


class Subscriber:
    """A real MQTT client that subscribes after the fact: it gets only what the broker retained."""

    def __init__(self, broker: Mosquitto, topic_names: list[str]) -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.connect(broker.host, broker.port)
        for name in topic_names:
            self.client.subscribe(name, qos=1)
        self.client.loop_start()

    def take(self, count: int) -> dict[str, dict[str, Any]]:
        got = dict(self.messages.get(timeout=10) for _ in range(count))
        self.client.disconnect()
        self.client.loop_stop()
        return got


def test_config_put_publishes_retained_and_rolls_back(api: Api, broker: Mosquitto) -> None:
    base = f"/api/v1/cities/{api.city}/configs"
    config_topics = [topics.topic(api.city, gw, "config") for gw in ("gw01", "gw02")]
    first = api.call("PUT", f"{base}/2026-11-26.1", Role.ENGINEER, content=api.text.encode())
    assert first.status_code == 201, first.text
    assert first.json()["published_to"] == ["gw01", "gw02"] and first.json()["stored"] is True
    got = Subscriber(broker, config_topics).take(2)
    assert got == {t: {"version": "2026-11-26.1", "yaml": api.text} for t in config_topics}

    again = api.call("PUT", f"{base}/2026-11-26.1", Role.ENGINEER, content=api.text.encode())
    assert again.status_code == 200 and again.json()["stored"] is False
    changed = api.text.replace("Ngã Sáu", "Ngã Sáu – cổng 2")
    assert api.call("PUT", f"{base}/2026-11-26.1", content=changed.encode()).status_code == 409
    assert api.call("PUT", f"{base}/2026-11-26.2", content=changed.encode()).status_code == 201

    broken = api.call("PUT", f"{base}/2026-11-26.3", content=api.text.replace("sds011", "sds01").encode())
    assert broken.status_code == 422
    assert any(p["suggestion"] == "sds011" for p in broken.json()["detail"]["problems"])
    assert api.call("PUT", f"{base}/bad version!", content=api.text.encode()).status_code == 422

    back = api.call("POST", f"{base}/2026-11-26.1/rollback", Role.ENGINEER)
    assert back.status_code == 201 and back.json()["version"]["version"] == "2026-11-26.1-rollback-1"
    got = Subscriber(broker, config_topics).take(2)
    assert {m["version"] for m in got.values()} == {"2026-11-26.1-rollback-1"}
    assert {m["yaml"] for m in got.values()} == {api.text}
    second = api.call("POST", f"{base}/2026-11-26.1-rollback-1/rollback").json()
    assert second["version"]["version"] == "2026-11-26.1-rollback-2"
    assert api.call("POST", f"{base}/never/rollback").status_code == 404

    versions = api.call("GET", base, Role.OPERATOR).json()
    assert [v["version"] for v in versions] == [
        "2026-11-26.1-rollback-2",
        "2026-11-26.1-rollback-1",
        "2026-11-26.2",
        "2026-11-26.1",
    ]
    assert versions[-1]["who"].startswith("engineer@ioc.test")
    assert api.call("GET", f"{base}/2026-11-26.2").json()["yaml"] == changed
    assert api.call("GET", f"{base}/nope").status_code == 404
    actions = [(e["action"], e["target"]) for e in api.call("GET", "/api/v1/audit").json()]
    assert actions[:4] == [
        ("config.rollback", f"{api.city}/2026-11-26.1-rollback-2"),
        ("config.rollback", f"{api.city}/2026-11-26.1-rollback-1"),
        ("config.put", f"{api.city}/2026-11-26.2"),
        ("config.put", f"{api.city}/2026-11-26.1"),
    ]


def test_config_put_without_broker_is_stored_not_published(make_api: Callable[..., Api]) -> None:
    api = make_api(broker=None)
    out = api.call("PUT", f"/api/v1/cities/{api.city}/configs/v1", content=api.text.encode()).json()
    assert out["published_to"] == [] and "no MQTT broker" in out["not_published"]


# --- snapshots ---------------------------------------------------------------------------------


def test_snapshots(make_api: Callable[..., Api]) -> None:
    api = make_api(snapshots_per_camera=3)
    base = "/api/v1/cameras/cam01/snapshots"
    assert api.call("GET", f"{base}/latest").status_code == 404
    ids = []
    for i in range(5):
        picture = JPEG[:-2] + bytes([i]) + JPEG[-2:]
        response = api.call(
            "PUT", base, Role.TECHNICIAN, content=picture, headers={"Content-Type": "image/jpeg"}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    listed = api.call("GET", base, Role.OPERATOR).json()
    assert [s["id"] for s in listed] == ids[::-1][:3], "newest first, the oldest beyond 3 deleted"
    latest = api.call("GET", f"{base}/latest")
    assert latest.headers["content-type"] == "image/jpeg" and latest.content[-3] == 4
    assert api.call("GET", f"{base}/{ids[2]}").content[-3] == 2
    assert api.call("GET", f"{base}/{ids[0]}").status_code == 404

    png = api.call("PUT", base, content=b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert png.status_code == 415 and "not a JPEG" in png.json()["detail"]
    assert "truncated" in api.call("PUT", base, content=JPEG[:-2]).json()["detail"]
    assert api.call("PUT", "/api/v1/cameras/nocam/snapshots", content=JPEG).status_code == 404
    assert api.call("GET", "/api/v1/cameras/../snapshots").status_code == 404


# --- roles, tokens, limits ---------------------------------------------------------------------


def sample_request(api: Api, e: Endpoint) -> dict[str, Any]:
    path = e.path.format(
        city=api.city,
        key="r%7Ccity%3Dx",
        version="v1",
        device="cam01",
        snapshot_id=1,
        token_id="x",
        gateway="gw01",
    )
    content = {"PUT": JPEG if "snapshots" in path else b"city: {}", "POST": b"city: {}"}.get(e.method)
    if path.endswith("/enrol"):
        return {"method": e.method, "path": path, "json": {}}
    if path.endswith("/tokens") and e.method == "POST":
        return {"method": e.method, "path": path, "json": {"user": "x", "role": "operator"}}
    return {"method": e.method, "path": path, "content": content}


@pytest.mark.parametrize("role", list(Role))
def test_roles(api: Api, role: Role) -> None:
    """The table in cloud/api/roles.py, endpoint by endpoint: the README prints the same table."""
    for e in ENDPOINTS:
        request = sample_request(api, e)
        status = api.call(request.pop("method"), request.pop("path"), role, **request).status_code
        if allowed(role, e.permission):
            assert status not in (401, 403), f"{role} refused {e.method} {e.path}"
        else:
            assert status == 403, f"{role} allowed {e.method} {e.path} ({status})"


def test_every_route_is_in_the_role_table(api: Api) -> None:
    """Each route's permission is the table's, and the app serves exactly the table's endpoints."""
    routes: dict[tuple[str, str], list[Permission]] = {}
    for module in (admin, alerts, cities, configs, enrolment, snapshots):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            found = [d.call.permission for d in route.dependant.dependencies if hasattr(d.call, "permission")]
            # path_format: the path OpenAPI publishes, without convertors such as {key:path}.
            routes.update({(method, route.path_format): found for method in route.methods})
    table = {(e.method, e.path): [e.permission] for e in ENDPOINTS}
    assert routes == table
    served = api.client.get("/openapi.json").json()["paths"]
    assert {(m.upper(), p) for p, ops in served.items() for m in ops} == set(table)


def test_readme_role_table_is_generated_from_the_table() -> None:
    readme = (REPO_ROOT / "cloud" / "api" / "README.md").read_text(encoding="utf-8")
    assert role_table() in readme, "regenerate it: python -m cloud.api.roles"


def test_bad_tokens_are_401(api: Api) -> None:
    url = "/api/v1/cities"
    missing = api.client.get(url)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert api.call("GET", url, "ioc_not-a-token").json()["detail"] == "unknown token"
    expired = create_token(api.svc.state, "old", "admin", 1)
    with sqlite3.connect(api.svc.settings.state_path) as db:
        db.execute("UPDATE tokens SET expires_ns = 1 WHERE user = 'old'")
    assert api.call("GET", url, expired).json()["detail"] == "token expired"
    tokens = {t["user"]: t["id"] for t in api.call("GET", "/api/v1/tokens").json()}
    assert api.call("DELETE", f"/api/v1/tokens/{tokens['operator@ioc.test']}").status_code == 204
    refused = api.call("GET", url, Role.OPERATOR)
    assert (refused.status_code, refused.json()["detail"]) == (401, "token revoked")


def test_tokens_through_the_api(api: Api) -> None:
    created = api.call(
        "POST", "/api/v1/tokens", json={"user": "lan@ioc.test", "role": "engineer", "ttl_days": 7}
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert api.call("GET", "/api/v1/cities", secret).status_code == 200
    listed = api.call("GET", "/api/v1/tokens").text
    assert secret not in listed and "lan@ioc.test" in listed
    with sqlite3.connect(api.svc.settings.state_path) as db:
        stored = [row[0] for row in db.execute("SELECT hash FROM tokens")]
    assert secret not in stored and all(len(h) == 64 for h in stored), "only sha256 hashes are stored"
    bad = api.call("POST", "/api/v1/tokens", json={"user": "x", "role": "superuser"})
    assert bad.status_code == 422 and "role" in bad.text


def test_body_limits(make_api: Callable[..., Api]) -> None:
    api = make_api(max_body_bytes=MIB, max_snapshot_bytes=2 * MIB)
    validate = f"/api/v1/cities/{api.city}/configs/validate"
    assert api.call("POST", validate, content=b"#" * (MIB + 1)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streaming cap must stop it
        for _ in range(40):
            yield b"#" * 64 * 1024

    assert api.call("POST", validate, content=chunks()).status_code == 413
    snapshots = "/api/v1/cameras/cam01/snapshots"
    big_jpeg = JPEG[:4] + bytes(int(1.5 * MIB)) + JPEG[-2:]
    assert api.call("PUT", snapshots, Role.TECHNICIAN, content=big_jpeg).status_code == 201
    too_big = JPEG[:4] + bytes(2 * MIB) + JPEG[-2:]
    assert api.call("PUT", snapshots, Role.TECHNICIAN, content=too_big).status_code == 413


def test_rate_limit_per_token(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_per_minute=5)
    now = [1000.0]
    api.svc.limiter.clock = lambda: now[0]  # a hand-moved clock: no waiting, no timing in the test
    for _ in range(5):
        assert api.call("GET", "/api/v1/cities", Role.OPERATOR).status_code == 200
    limited = api.call("GET", "/api/v1/cities", Role.OPERATOR)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "12"
    assert api.call("GET", "/api/v1/cities", Role.ENGINEER).status_code == 200, "buckets are per token"
    now[0] += 12
    assert api.call("GET", "/api/v1/cities", Role.OPERATOR).status_code == 200


# --- command line ------------------------------------------------------------------------------


def test_token_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    state = str(tmp_path / "api.db")
    created = runner.invoke(tokens_command, ["create", "an@ioc.test", "--role", "operator", "--state", state])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("ioc_")
    listed = runner.invoke(tokens_command, ["list", "--state", state])
    assert "an@ioc.test" in listed.stdout and secret not in listed.stdout
    [info] = list_tokens(State(Path(state)))
    assert info.id in listed.stdout
    assert runner.invoke(tokens_command, ["revoke", info.id, "--state", state]).exit_code == 0
    assert "revoked" in runner.invoke(tokens_command, ["list", "--state", state]).stdout
    assert runner.invoke(tokens_command, ["revoke", "nope", "--state", state]).exit_code == 1
    bad_role = runner.invoke(tokens_command, ["create", "x", "--role", "root", "--state", state])
    assert bad_role.exit_code == 2 and "operator, engineer" in bad_role.output


def test_api_command_refuses_a_broken_city_config(tmp_path: Path) -> None:
    (tmp_path / "cities").mkdir()
    (tmp_path / "cities" / "x.yaml").write_text(
        "city: {id: x, name: X, province: Y}\nsites: []\ngatways: []\n"
    )
    app = typer.Typer()
    app.command()(api_command)
    result = CliRunner().invoke(
        app, ["--configs", str(tmp_path), "--state", str(tmp_path / "s.db"), "--broker", ""]
    )
    assert result.exit_code == 2
    assert "x.yaml:3" in result.output and "gateways" in result.output


def test_technician_enrols_a_gateway_that_then_reaches_its_own_topics(
    make_api: Callable[..., Api],
    tmp_path: Path,
) -> None:
    security = tmp_path / "security"
    certs = init_certs(security / "certs")
    registry = Registry(security / "accounts")
    broker = SecureMosquitto(tmp_path / "broker", certs, registry).start()
    pid_file = tmp_path / "broker.pid"
    assert broker.process is not None
    pid_file.write_text(str(broker.process.pid))
    try:
        api = make_api(security_dir=security, broker_pid_file=pid_file)
        url = f"/api/v1/cities/{api.city}/gateways/gw01/enrol"
        assert api.client.post(url, json={}, headers=api.headers("operator")).status_code == 403
        answer = api.client.post(url, json={}, headers=api.headers("technician"))
        assert answer.status_code == 201, answer.text
        creds = answer.json()
        assert creds["username"] == f"gw.{api.city}.gw01" and len(creds["password"]) >= 20
        again = api.client.post(url, json={}, headers=api.headers("technician"))
        assert again.status_code == 409, "an enrolled gateway keeps its password unless rotated"
        missing = api.client.post(
            f"/api/v1/cities/{api.city}/gateways/gw99/enrol", json={}, headers=api.headers("admin")
        )
        assert missing.status_code == 404
        audit = api.client.get("/api/v1/audit", headers=api.headers("admin")).json()
        assert any(e["action"] == "gateway.enrol" and e["target"] == f"{api.city}/gw01" for e in audit)

        # The broker reloaded its accounts: the new gateway connects over TLS with that password.
        result: list[object] = []
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.username_pw_set(creds["username"], creds["password"])
        client.tls_set(ca_certs=str(certs.ca_cert))
        client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason)
        client.connect(broker.host, broker.port)
        client.loop_start()
        deadline = time.monotonic() + 10
        while not result and time.monotonic() < deadline:
            time.sleep(0.05)
        client.disconnect()
        client.loop_stop()
        assert result and not getattr(result[0], "is_failure", True)
    finally:
        broker.stop()


def test_api_over_https_with_the_deployment_certificate(make_api: Callable[..., Api], tmp_path: Path) -> None:
    certs = init_certs(tmp_path / "certs")
    api = make_api()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            api.client.app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ssl_certfile=str(certs.server_cert),
            ssl_keyfile=str(certs.server_key),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        context = ssl.create_default_context(cafile=str(certs.ca_cert))
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/openapi.json", context=context, timeout=5
        ) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.URLError):  # a client that does not trust the CA is refused
            urllib.request.urlopen(
                f"https://127.0.0.1:{port}/openapi.json", context=ssl.create_default_context(), timeout=5
            )
    finally:
        server.should_exit = True
        thread.join(timeout=5)
