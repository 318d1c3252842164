"""The display wall: dashboards built from the pilot cities' configs, checked without Grafana.

Grafana's server cannot be installed on these machines, so:
- every panel and variable query is expanded the way Grafana's InfluxDB data source does and run
  against the real InfluxDB, filled with a day of plausible readings of every measurement the wall
  shows; a query that returns no rows fails the test;
- every dashboard round-trips through the foundation SDK's JSON models;
- ``push`` talks to a small recording HTTP server that stands in for Grafana and checks each call
  against Grafana's documented HTTP API.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cloud.indices.aqi import AQI_BANDS
from cloud.influx_query import InfluxQuery
from cloud.influx_writer import InfluxV1Writer
from cloud.points import to_line
from dashboards import sample_data, verify, wall
from dashboards.cli import build_command, push_command
from dashboards.influxql import InfluxQuery as InfluxTarget
from dashboards.layout import check_layout
from dashboards.provisioning import make_bundle
from ioc.config import CityConfig, load_city
from ioc.services import InfluxDB

CITIES = sorted(Path(__file__).resolve().parents[1].glob("configs/cities/*.yaml"))
BMT = next(p for p in CITIES if p.stem == "buon-ma-thuot")


@pytest.fixture(scope="module")
def configs() -> list[CityConfig]:
    return [load_city(path) for path in CITIES]


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("build")(build_command)
    app.command("push")(push_command)
    return app


# --- the dashboards themselves -------------------------------------------------------------------


def test_every_dashboard_round_trips_through_the_sdk_models(configs: list[CityConfig]) -> None:
    for config in configs:
        for locale in ("vi", "en"):
            built = wall.build_all(config, locale)
            assert [b.uid for b in built] == [f"ioc-{config.city.id}-{slug}" for slug in wall.ORDER]
            for board in built:
                data = wall.to_json(board)
                again = wall.from_json(data)
                assert wall.to_json(again) == data, board.uid
                targets = [t for p in again.panels or [] for t in getattr(p, "targets", None) or []]
                assert targets and all(isinstance(t, InfluxTarget) for t in targets), board.uid


def test_the_wall_fits_one_screen_without_scrolling(configs: list[CityConfig]) -> None:
    for config in configs:
        boards = [wall.to_json(b) for b in wall.build_all(config)]
        assert check_layout(boards) == []
        for board in boards:
            assert board["refresh"] in ("5s", "30s", "1m", "5m")
            assert board["timezone"] == config.city.timezone
            names = [v["name"] for v in board["templating"]["list"]]
            assert names == ["city", "site"]


def test_layout_check_finds_overflow_overlap_and_holes() -> None:
    board = {
        "uid": "x",
        "panels": [
            {"title": "a", "gridPos": {"x": 0, "y": 0, "w": 20, "h": 26}},
            {"title": "b", "gridPos": {"x": 18, "y": 0, "w": 8, "h": 27}},
        ],
    }
    problems = [str(p) for p in check_layout([board])]
    assert any("24 columns" in p for p in problems)
    assert any("scrolls" in p for p in problems)
    assert any("overlaps 'a'" in p for p in problems)
    assert any("stay empty" in p for p in problems)


def test_labels_follow_the_locale_and_bands_come_from_the_indices(configs: list[CityConfig]) -> None:
    config = configs[0]
    vi = json.dumps([wall.to_json(b) for b in wall.build_all(config, "vi")], ensure_ascii=False)
    en = json.dumps([wall.to_json(b) for b in wall.build_all(config, "en")], ensure_ascii=False)
    assert "Chất lượng không khí" in vi and "Air quality" in en and "Air quality" not in vi
    for band in AQI_BANDS:
        assert f'"text": "{band.vi}"' in vi and f'"text": "{band.en}"' in en
        assert band.hex in vi
    with pytest.raises(ValueError, match="locale must be one of vi, en"):
        wall.build_all(config, "fr")


def test_the_map_has_a_layer_and_a_query_for_every_site(configs: list[CityConfig]) -> None:
    for config in configs:
        overview = wall.to_json(wall.build_all(config)[0])
        geomap = next(p for p in overview["panels"] if p["type"] == "geomap")
        layers = {layer["filterData"]["options"]: layer for layer in geomap["options"]["layers"]}
        assert set(layers) == {s.id for s in config.sites}
        for site in config.sites:
            query = next(t["query"] for t in geomap["targets"] if t["refId"] == site.id)
            assert f'* 0 + {site.lat} AS "lat"' in query and f"'{site.id}'" in query
            assert layers[site.id]["name"] == site.name


# --- Grafana's expansion of InfluxQL, by hand ----------------------------------------------------

NOW = dt.datetime(2026, 11, 26, 20, 30, tzinfo=dt.UTC)  # 03:30 on the 27th in Việt Nam
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_time_filter_and_intervals_expand_as_grafana_does() -> None:
    assert verify.influx_time("now-6h", False, HCM, NOW) == "now() - 6h"
    assert verify.influx_time("now", True, HCM, NOW) == "now()"
    start_of_day = int(dt.datetime(2026, 11, 27, tzinfo=HCM).timestamp() * 1000)
    assert verify.influx_time("now/d", False, HCM, NOW) == f"{start_of_day}ms"
    assert verify.panel_range("15m", ("now-6h", "now")) == ("now-15m", "now")
    assert verify.panel_range("now/d", ("now-6h", "now")) == ("now/d", "now")
    # 6 h over a 12-column panel (960 px) is 22.5 s a point → 20 s; a 1 m minimum wins.
    assert verify.calculate_interval(6 * 3_600_000, 960, None) == ("20s", 20_000)
    assert verify.calculate_interval(6 * 3_600_000, 960, "1m") == ("1m", 60_000)
    assert verify.seconds_to_hms(604_800) == "7d"


def test_template_variables_expand_as_regex_alternations() -> None:
    site = verify.Variable("site", "", multi=True, include_all=True, all_value=".*", current=verify.ALL)
    city = verify.Variable("city", "", multi=False, include_all=False, all_value=None, current="bmt")
    assert site.format(["bmt-aq01", "bmt-aq02"], []) == "(bmt-aq01|bmt-aq02)"
    assert site.format(["a.b"], []) == r"a\.b"
    assert site.format(verify.ALL, ["x"]) == ".*"
    assert city.format("bmt", []) == "bmt"
    query = 'SELECT 1 FROM m WHERE "site" =~ /^$site$/ AND "city" =~ /^${city}$/ AND $timeFilter'
    values = {"site": "(a|b)", "city": "bmt", "timeFilter": "time >= now() - 6h and time <= now()"}
    assert verify.interpolate(query, values) == (
        'SELECT 1 FROM m WHERE "site" =~ /^(a|b)$/ AND "city" =~ /^bmt$/ '
        "AND time >= now() - 6h and time <= now()"
    )
    with pytest.raises(ValueError, match=r"unknown template variable \$nope"):
        verify.interpolate("SELECT $nope", values)


# --- every query against the real InfluxDB -------------------------------------------------------


def _fill(influx: InfluxDB, database: str, configs: list[CityConfig]) -> None:
    # traffic_flow, camera_health, aqi, wqi and alerts have no producer in the repo yet: their
    # points come from sample_data like the rest, with fields from the measurement dictionary.
    writer = InfluxV1Writer(influx.url, database)
    for config in configs:
        lines = [to_line(r) for r in sample_data.readings(config)]
        for start in range(0, len(lines), 5000):
            writer.write(lines[start : start + 5000])


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_every_panel_and_variable_query_returns_rows(
    influx: InfluxDB, database: str, configs: list[CityConfig]
) -> None:
    _fill(influx, database, configs)  # all three cities in one database: the city variable separates them
    client = InfluxQuery(influx.url, database)
    empty: list[str] = []
    for config in configs:
        for board in (wall.to_json(b) for b in wall.build_all(config)):
            results = verify.check_dashboard(board, client)
            empty += [str(r) for r in results if r.error or r.rows == 0]
            site_values = next(r for r in results if r.panel == "variable $site")
            assert site_values.rows >= 1
            # Every site the variable offers, chosen one by one: the (a|b|…) form of the expansion.
            offered = verify.variable_values(client, site_values.query)[0]
            assert set(offered) <= {s.id for s in config.sites}, board["uid"]
            chosen = verify.check_dashboard(board, client, {"site": offered})
            empty += [str(r) for r in chosen if r.error or r.rows == 0]
    assert not empty, "queries without rows:\n" + "\n".join(empty)


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_city_variable_keeps_cities_apart(influx: InfluxDB, database: str, configs: list[CityConfig]) -> None:
    _fill(influx, database, configs[:1])
    client = InfluxQuery(influx.url, database)
    other = next(c for c in configs[1:])
    board = wall.to_json(wall.build_all(other)[3])  # signals, for a city with no data
    results = verify.check_dashboard(board, client)
    assert [r.rows for r in results if not r.panel.startswith("variable")] == [0] * (len(results) - 2)


# --- provisioning files --------------------------------------------------------------------------


def test_build_writes_provisioning_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _cli(), ["build", "--config", str(BMT), "--out", str(tmp_path), "--locale", "en"]
    )
    assert result.exit_code == 0, result.output
    prov = tmp_path / "provisioning"
    source = yaml.safe_load((prov / "datasources" / "ioc-influxdb.yaml").read_text())["datasources"][0]
    assert (source["type"], source["uid"], source["jsonData"]["dbName"]) == (
        "influxdb",
        "ioc-influxdb",
        "ioc",
    )
    assert "secureJsonData" not in source  # InfluxDB 1.x here: no token
    v2 = yaml.safe_load((prov / "datasources" / "ioc-influxdb-v2.yaml.example").read_text())["datasources"][0]
    assert v2["jsonData"]["httpHeaderName1"] == "Authorization"
    assert v2["secureJsonData"]["httpHeaderValue1"] == "Token ${INFLUXDB_TOKEN}"  # Grafana expands it
    provider = yaml.safe_load((prov / "dashboards" / "ioc-bmt.yaml").read_text())["providers"][0]
    boards = sorted(Path(provider["options"]["path"]).glob("*.json"))
    assert len(boards) == 8 and provider["folderUid"] == "ioc-bmt"
    assert json.loads(boards[0].read_text())["title"].endswith("Buôn Ma Thuột")
    playlist = json.loads((tmp_path / "playlist-bmt.json").read_text())
    assert [i["value"] for i in playlist["items"]] == [f"ioc-bmt-{s}" for s in wall.ORDER]
    assert "GF_PATHS_PROVISIONING=" in result.output and "/playlists/play/ioc-bmt-wall?kiosk" in result.output


def test_build_rejects_bad_input_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "city.yaml"
    broken.write_text(BMT.read_text().replace("lat: 12.66795", "lattitude: 12.66795"))
    result = CliRunner().invoke(_cli(), ["build", "--config", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert re.search(r"city\.yaml:\d+: sites\[0\]\.lattitude: unknown key — did you mean 'lat'", text)
    result = CliRunner().invoke(_cli(), ["build", "--config", str(BMT), "--locale", "fr"])
    assert result.exit_code == 2 and "--locale is one of vi, en, not 'fr'" in " ".join(result.output.split())


# --- push, against a stand-in for Grafana --------------------------------------------------------


class FakeGrafana(BaseHTTPRequestHandler):
    """Stands in for Grafana's HTTP API (Grafana's server cannot run here): keeps folders, data
    sources, dashboards and playlists, and refuses any call Grafana's documentation does not have
    or a body without the fields the documentation requires."""

    state: dict[str, dict[str, Any]]
    calls: list[tuple[str, str]]
    problems: list[str]
    token = "s3cret"

    # (method, path pattern) → required body keys, from Grafana's HTTP API reference.
    ROUTES: ClassVar[dict[tuple[str, str], tuple[str, ...]]] = {
        ("GET", r"/api/folders/([\w-]+)"): (),
        ("POST", r"/api/folders"): ("title", "uid"),
        ("PUT", r"/api/folders/([\w-]+)"): ("title",),
        ("GET", r"/api/datasources/uid/([\w-]+)"): (),
        ("POST", r"/api/datasources"): ("name", "type", "access", "url"),
        ("PUT", r"/api/datasources/uid/([\w-]+)"): ("name", "type", "access", "url"),
        ("GET", r"/api/dashboards/uid/([\w-]+)"): (),
        ("POST", r"/api/dashboards/db"): ("dashboard", "overwrite"),
        ("GET", r"/api/playlists/([\w-]+)"): (),
        ("GET", r"/api/playlists\?query=.*"): (),
        ("POST", r"/api/playlists"): ("name", "interval", "items"),
        ("PUT", r"/api/playlists/([\w-]+)"): ("name", "interval", "items"),
    }

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        self.calls.append((method, self.path))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(401, {"message": "Unauthorized"})
        for (verb, pattern), required in self.ROUTES.items():
            match = re.fullmatch(pattern, self.path)
            if verb == method and match:
                missing = [k for k in required if k not in body]
                if missing:
                    self.problems.append(f"{method} {self.path} without {missing}")
                    return self._reply(400, {"message": f"missing {missing}"})
                return self._reply(*self._handle(method, self.path, match, body))
        self.problems.append(f"undocumented call {method} {self.path}")
        self._reply(404, {"message": "Not found"})

    def _handle(self, method: str, path: str, match: re.Match[str], body: dict[str, Any]) -> tuple[int, Any]:
        kind = path.split("?")[0].split("/")[2]
        store = self.state.setdefault(kind, {})
        key = match.group(1) if match.groups() else None
        if kind == "playlists" and key is None and method == "GET":
            return 200, [{"uid": u, "name": p["name"], "interval": p["interval"]} for u, p in store.items()]
        if method == "GET":
            return (200, store[key]) if key in store else (404, {"message": f"{kind} {key} not found"})
        if kind == "dashboards":
            board = body["dashboard"]
            if board.get("id") is not None:
                self.problems.append("dashboard posted with an id")
            old = store.get(board["uid"], {}).get("dashboard", {})
            saved = dict(board, id=7, version=old.get("version", 0) + 1)
            store[board["uid"]] = {"dashboard": saved, "meta": {"folderUid": body.get("folderUid")}}
            return 200, {"status": "success", "uid": board["uid"], "version": saved["version"]}
        uid = key or body.get("uid") or f"gen{len(store)}"
        saved = {k: v for k, v in body.items() if k != "secureJsonData"}
        if kind == "datasources":
            saved["secureJsonFields"] = dict.fromkeys(body.get("secureJsonData") or {}, True)
        store[uid] = dict(saved, uid=uid)
        return 200, {"uid": uid, "message": "ok"}

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def grafana() -> Iterator[tuple[str, type[FakeGrafana]]]:
    handler = type("Grafana", (FakeGrafana,), {"state": {}, "calls": [], "problems": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()
    server.server_close()


def _push(url: str, *extra: str, token: str = "s3cret") -> Any:
    args = ["push", "--config", str(BMT), "--grafana-url", url, "--token-env", "TEST_GRAFANA_TOKEN", *extra]
    return CliRunner().invoke(_cli(), args, env={"TEST_GRAFANA_TOKEN": token})


def _writes(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [c for c in calls if c[0] != "GET"]


@pytest.mark.timeout(30)
def test_push_creates_everything_then_changes_nothing(grafana: tuple[str, type[FakeGrafana]]) -> None:
    url, server = grafana
    first = _push(url)
    assert first.exit_code == 0, first.output
    writes = _writes(server.calls)
    assert ("POST", "/api/folders") in writes and ("POST", "/api/datasources") in writes
    assert writes.count(("POST", "/api/dashboards/db")) == 8 and ("POST", "/api/playlists") in writes
    assert server.state["dashboards"]["ioc-bmt-overview"]["meta"]["folderUid"] == "ioc-bmt"
    assert "/playlists/play/ioc-bmt-wall?kiosk" in first.output
    server.calls.clear()
    second = _push(url)
    assert second.exit_code == 0, second.output
    assert _writes(server.calls) == [], "a second push must change nothing"
    assert "0 changed, 11 unchanged" in second.output
    assert server.problems == []


@pytest.mark.timeout(30)
def test_push_dry_run_reports_and_writes_nothing(grafana: tuple[str, type[FakeGrafana]]) -> None:
    url, server = grafana
    dry = _push(url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert _writes(server.calls) == []
    assert "would create  dashboard" in dry.output and "11 would change" in dry.output
    assert _push(url).exit_code == 0
    server.calls.clear()
    english = _push(url, "--dry-run", "--locale", "en")
    assert _writes(server.calls) == []
    assert "would update  dashboard" in english.output and "title" in english.output
    assert "would update  playlist" in english.output and "unchanged  data source" in english.output
    assert server.problems == []


@pytest.mark.timeout(30)
def test_push_explains_a_refused_token_and_an_absent_grafana(grafana: tuple[str, type[FakeGrafana]]) -> None:
    url, _ = grafana
    refused = _push(url, token="wrong")
    assert refused.exit_code == 2 and "refused the token (401)" in refused.output
    absent = _push("http://127.0.0.1:9", "--dry-run")
    assert absent.exit_code == 2 and "Grafana unreachable at http://127.0.0.1:9" in absent.output


def test_push_sends_the_influxdb_2_token_only_through_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_city(BMT)
    from dashboards.provisioning import InfluxSource

    source = InfluxSource("http://influx:8086", "ioc", "v2")
    bundle = make_bundle(config, "vi", source, token="tok")
    assert bundle.datasource["secureJsonData"] == {"httpHeaderValue1": "Token tok"}
    assert make_bundle(config, "vi", source).datasource["secureJsonData"] == {
        "httpHeaderValue1": "Token ${INFLUXDB_TOKEN}"
    }
