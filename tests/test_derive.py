"""Derived data against the real InfluxDB: AQI/WQI points equal cloud/indices called directly on the
same hourly values, recomputing is idempotent, the completeness ledger survives a counter reset and
a missing stretch, station files exported from InfluxDB parse back to the same values, and the
command functions answer bad input with a reason.

Readings are written at fixed local times of a day ten days back (so within any retention)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cloud.derive import DeriveService, completeness, export_tt10, recompute
from cloud.derive.clock import HOUR_NS, LocalClock, parse_instant
from cloud.derive.counters import hourly_increase
from cloud.derive.tt10_export import station_names
from cloud.indices import daily_aqi, hourly_aqi, wqi
from cloud.influx_query import InfluxQuery
from cloud.influx_writer import InfluxV1Writer
from cloud.points import to_line
from firmware_bridge import registry
from firmware_bridge.tt10 import Tt10Options, parse_file
from firmware_bridge.tt10.params import ParamTable
from ioc.config import CityConfig, parse_city
from ioc.measurements import dictionary
from ioc.reading import FieldValue, Quality, Reading
from ioc.services import InfluxDB
from tests.pipeline import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CLOCK = LocalClock("Asia/Ho_Chi_Minh")
DAY = CLOCK.day_of(CLOCK.hour_floor(time.time_ns())) - timedelta(days=10)
DAY0 = CLOCK.day_start(DAY)
MIN = 60 * 10**9
GAP = DAY0 + 10 * HOUR_NS  # no air reading at all in this hour
PM, GASES = ("pm25", "pm10"), ("o3", "no2", "so2", "co")

CITY_YAML = """
city: {{id: {city}, name: Test, province: Lạng Sơn}}
sites:
  - {{id: aq1, name: A, kind: air, lat: 21.8, lon: 106.7}}
  - {{id: aq2, name: A2, kind: air, lat: 21.8, lon: 106.7}}
  - {{id: wq1, name: W, kind: water, lat: 21.8, lon: 106.7}}
gateways:
  - id: gw1
    site: aq1
    devices:
      - {{id: pm1, family: sds011, port: /dev/ttyUSB0}}
      - {{id: gas1, family: sds011, port: /dev/ttyUSB1}}
      - {{id: pm9, family: sds011, site: aq2, port: /dev/ttyUSB2}}
  - id: gw2
    site: wq1
    devices:
      - {{id: st1, family: tt10, port: /srv/ftp/st1, options: {{station: NUOC01}}}}
      - {{id: son1, family: tt10, port: /srv/ftp/son1}}
influxdb: {{url: "{url}", database: {database}}}
"""


def city_yaml(city: str, influx: InfluxDB, database: str) -> str:
    return CITY_YAML.format(city=city, url=influx.url, database=database)


@pytest.fixture
def config(city_id: str, influx: InfluxDB, database: str) -> CityConfig:
    return parse_city(city_yaml(city_id, influx, database), families=registry.config_specs())


@pytest.fixture
def query(influx: InfluxDB, database: str) -> InfluxQuery:
    return InfluxQuery(influx.url, database)


@pytest.fixture
def writer(influx: InfluxDB, database: str) -> InfluxV1Writer:
    return InfluxV1Writer(influx.url, database)


def reading(
    config: CityConfig,
    measurement: str,
    gateway: str,
    device: str,
    site: str,
    fields: dict[str, FieldValue],
    time_ns: int,
    quality: Quality = "good",
) -> Reading:
    tags = {"city": config.city.id, "site": site, "gateway": gateway, "device": device}
    return Reading(measurement, tags, fields, time_ns, quality)


def write(writer: InfluxV1Writer, readings: list[Reading]) -> None:
    writer.write([to_line(r) for r in readings])


def air_data(config: CityConfig, writer: InfluxV1Writer) -> dict[str, dict[int, float]]:
    """Hourly air readings from 12 h before DAY to its end, but none in the GAP hour, and a
    calibrating PM reading every hour that must not count; returns the expected hourly means."""
    means: dict[str, dict[int, float]] = {p: {} for p in (*PM, *GASES)}
    readings = []
    for i in range(-12, 24):
        hour = DAY0 + i * HOUR_NS
        if hour == GAP:
            continue
        a, b = 20 + (i * 7) % 40, 30 + (i * 11) % 60
        # Two PM readings per hour whose mean is exact in binary floating point.
        for at, (pm25, pm10) in ((5, (a, b)), (35, (a + 4, b + 2))):
            fields: dict[str, FieldValue] = {"pm25": float(pm25), "pm10": float(pm10)}
            readings.append(reading(config, "air_quality", "gw1", "pm1", "aq1", fields, hour + at * MIN))
        means["pm25"][hour], means["pm10"][hour] = a + 2.0, b + 1.0
        calibrating = {"pm25": 1500.0, "pm10": 1500.0}
        readings.append(
            reading(config, "air_quality", "gw1", "pm1", "aq1", calibrating, hour + 20 * MIN, "calibrating")
        )
        gases = {"o3": 60.0 + (i * 13) % 150, "no2": 40.0 + i % 30, "so2": 30.0, "co": 2000.0 + 100 * (i % 5)}
        readings.append(reading(config, "air_quality", "gw1", "gas1", "aq1", dict(gases), hour + 15 * MIN))
        for name, value in gases.items():
            means[name][hour] = value
    write(writer, readings)
    return means


def rows(query: InfluxQuery, q: str) -> list[dict]:
    return sorted(query.rows(q), key=lambda r: (r.get("site") or "", r.get("device") or "", r["time"]))


def test_aqi_points_equal_cloud_indices_on_the_same_hourly_means(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer
) -> None:
    means = air_data(config, writer)
    result = recompute(query, writer, config, DAY0, DAY0 + 24 * HOUR_NS)
    assert result.hours == 24 and result.days == 1

    hourly = {r["time"]: r for r in rows(query, "SELECT * FROM aqi WHERE kind = 'hourly'")}
    expected_hours = [DAY0 + i * HOUR_NS for i in range(24) if DAY0 + i * HOUR_NS != GAP]
    assert sorted(hourly) == expected_hours  # the gap hour has no point, nothing outside the day
    for hour in expected_hours:
        window = {p: [means[p].get(hour - k * HOUR_NS) for k in range(12)] for p in PM}
        window |= {g: [means[g].get(hour)] for g in GASES}
        expected = hourly_aqi(window)
        assert expected is not None
        row = hourly[hour]
        assert (row["aqi"], row["dominant"]) == (expected.aqi, expected.dominant), hour
        assert {p: row[p] for p in expected.rounded()} == expected.rounded()
        assert (row["city"], row["site"], row["gateway"], row["device"]) == (
            config.city.id,
            "aq1",
            "cloud",
            "aqi",
        )
    after_gap = hourly[GAP + HOUR_NS]  # NowCast without c2: the gap carries no weight
    assert (
        after_gap["aqi"]
        == hourly_aqi(
            {p: [means[p].get(GAP + HOUR_NS - k * HOUR_NS) for k in range(12)] for p in PM}
            | {g: [means[g][GAP + HOUR_NS]] for g in GASES}
        ).aqi
    )  # type: ignore[union-attr]

    daily = rows(query, "SELECT * FROM aqi WHERE kind = 'daily'")
    day_hours = [DAY0 + i * HOUR_NS for i in range(24)]
    expected_day = daily_aqi(
        {p: [means[p].get(h) for h in day_hours] for p in (*PM, *GASES)},
        o3_before=[means["o3"].get(DAY0 - k * HOUR_NS) for k in range(7, 0, -1)],
    )
    assert expected_day is not None
    assert [(r["time"], r["aqi"], r["dominant"]) for r in daily] == [
        (DAY0, expected_day.aqi, expected_day.dominant)
    ]
    assert {p: daily[0][p] for p in expected_day.rounded()} == expected_day.rounded()


def snapshot(query: InfluxQuery) -> list[dict]:
    return rows(query, "SELECT * FROM aqi, wqi, completeness")


def test_recomputing_twice_writes_the_same_points(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer
) -> None:
    air_data(config, writer)
    recompute(query, writer, config, DAY0 - 6 * HOUR_NS, DAY0 + 24 * HOUR_NS)
    first = snapshot(query)
    assert {r["_measurement"] for r in first} == {"aqi", "completeness"}
    recompute(query, writer, config, DAY0 - 6 * HOUR_NS, DAY0 + 24 * HOUR_NS)
    assert snapshot(query) == first


def test_wqi_from_the_last_usable_values_of_each_hour(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer
) -> None:
    h0, h1, h2 = (DAY0 + k * HOUR_NS for k in (8, 9, 10))
    full = {"pH": 7.0, "temperature": 28.0, "dissolvedOxygen": 6.0, "cod": 12.0, "bod5": 5.0, "nh4": 0.2}
    later = {"cod": 20.0, "nh4": 0.5}
    data = [
        (h0 + 5 * MIN, full, "good"),
        (h0 + 30 * MIN, later, "good"),
        (h0 + 50 * MIN, {"cod": 100.0}, "calibrating"),  # not water: left out
        (h1 + 5 * MIN, {"pH": 7.2, "cod": 12.0, "bod5": 5.0}, "good"),  # 2 organic parameters: no WQI
        (h2 + 5 * MIN, {**full, "coliform": 3000.0, "dissolvedOxygen": 3.5}, "good"),
    ]
    write(writer, [reading(config, "water_quality", "gw2", "st1", "wq1", f, t, q) for t, f, q in data])
    recompute(query, writer, config, DAY0, DAY0 + 24 * HOUR_NS, with_ledger=False)
    points = rows(query, "SELECT * FROM wqi")
    expected = {h0: wqi(full | later), h2: wqi({**full, "coliform": 3000.0, "dissolvedOxygen": 3.5})}
    assert [(p["time"], p["wqi"]) for p in points] == [(h, r.wqi) for h, r in expected.items() if r]
    assert {(p["site"], p["gateway"], p["device"]) for p in points} == {("wq1", "cloud", "wqi")}


def test_ledger_survives_a_counter_reset_and_shows_a_missing_stretch(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer
) -> None:
    h0 = DAY0 - 2 * 24 * HOUR_NS + 6 * HOUR_NS
    # Health every 10 min; the agent starts at h0, restarts at h2+30 min (produced counts from 0
    # again); dropped lives in the buffer and survives; 5 readings dropped by the quota in h1.
    produced = [10 * k for k in range(1, 16)] + [10, 20] + [30 + 10 * k for k in range(7)]
    times = [h0 + 10 * MIN * k for k in range(1, len(produced) + 1)]
    health = []
    for t, p in zip(times, produced, strict=True):
        dropped = 12 if t >= h0 + 90 * MIN else 7
        health.append(reading(config, "gateway", "gw1", "pm9", "aq1", {"produced": p, "dropped": dropped}, t))
        health.append(reading(config, "gateway", "gw1", "agent", "aq1", {"produced": 10 * p}, t))
    stored = []
    for minute in range(3 * 60):  # h3 stores nothing; h1 loses minutes 20..49
        if not 80 <= minute < 110:
            stored.append(
                reading(config, "air_quality", "gw1", "pm9", "aq2", {"pm25": 10.0}, h0 + minute * MIN + 10**9)
            )
    write(writer, health + stored)

    recompute(query, writer, config, h0, h0 + 4 * HOUR_NS)
    hours = [h0 + k * HOUR_NS for k in range(4)]
    expected = [
        (hours[0], 60, 60, 0, 1.0),
        (hours[1], 60, 30, 5, 0.5),
        (hours[2], 60, 60, 0, 1.0),
        (hours[3], 60, 0, 0, 0.0),
    ]
    written = rows(query, "SELECT * FROM completeness")
    assert [(r["time"], r["produced"], r["stored"], r["dropped"], r["ratio"]) for r in written] == expected
    assert {(r["site"], r["gateway"], r["device"]) for r in written} == {("aq2", "gw1", "pm9")}

    # What the API calls: the same figures, computed live; the site from the stored readings.
    live = completeness(query, config.city.id, h0, h0 + 4 * HOUR_NS)
    assert [(r.time_ns, r.produced, r.stored, r.dropped, r.ratio) for r in live] == expected
    assert {(r.site, r.gateway, r.device) for r in live} == {("aq2", "gw1", "pm9")}


def test_counter_increase_is_spread_over_hours_and_adds_up() -> None:
    h = DAY0
    samples = [(h + 50 * MIN, 100.0), (h + 70 * MIN, 160.0), (h + 80 * MIN, 5.0), (h + 190 * MIN, 335.0)]
    got = hourly_increase(samples, CLOCK, window_start_ns=h, counts_first=False)
    # 60 over 50→70 min: 30 + 30; reset: 5 before 80 min; 330 over 80→190 min: 120 / 180 / 30.
    assert got == {h: 30, h + HOUR_NS: 30 + 5 + 120, h + 2 * HOUR_NS: 180, h + 3 * HOUR_NS: 30}


def test_station_files_parse_back_to_the_same_values(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer, tmp_path: Path
) -> None:
    s1, s2, s3 = (DAY0 + 8 * HOUR_NS + k * 5 * MIN for k in range(3))
    data: list[tuple[str, int, dict[str, FieldValue], Quality]] = [
        (
            "st1",
            s1,
            {"pH": 7.25, "temperature": 28.5, "dissolvedOxygen": 5.1, "nh4": 0.105, "coliform": 2400.0},
            "good",
        ),
        ("son1", s1, {"conductivity": 1234.5678, "turbidity": 20.0, "orp": -12.5}, "good"),
        ("st1", s2, {"cod": 99.5}, "calibrating"),
        ("son1", s2, {"pH": 7.3}, "good"),
        ("st1", s3, {"dissolvedOxygen": 0.0, "flow": 3.6, "tss": 1e-05}, "device_error"),
    ]
    write(writer, [reading(config, "water_quality", "gw2", d, "wq1", f, t, q) for d, t, f, q in data])
    result = export_tt10(query, config, "wq1", DAY0, DAY0 + 24 * HOUR_NS, tmp_path)

    prefix = f"LS_{config.city.id.upper()}_NUOC01_"
    stamps = [CLOCK.local(t).strftime("%Y%m%d%H%M%S") for t in (s1, s2, s3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{prefix}{s}.txt" for s in stamps]
    assert [p.name for p in result.files] == [f"{prefix}{s}.txt" for s in stamps]
    parsed: dict[tuple[int, str], dict[str, FieldValue]] = {}
    for path in result.files:
        back = parse_file(path.name, path.read_bytes(), Tt10Options(station="NUOC01"))
        assert back.rejects == [] and not back.dropped, back.reason_text()
        for sample in back.samples:
            assert sample.measurement == "water_quality" and sample.time_ns is not None
            parsed[(sample.time_ns, sample.quality)] = sample.fields
    expected: dict[tuple[int, str], dict[str, FieldValue]] = {}
    for _device, t, fields, quality in data:
        expected.setdefault((t, quality), {}).update(fields)
    assert parsed == expected
    assert "DO 5.1 mg/L" in result.files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("measurement", ["water_quality", "air_quality"])
def test_every_exported_parameter_name_reads_back_as_its_field(measurement: str) -> None:
    table = ParamTable(Tt10Options(measurement=measurement))  # type: ignore[arg-type]
    for field, name in station_names(measurement).items():
        param = table.lookup(name)
        assert param is not None and param.field == field, (name, field)
        assert table.factor(field, dictionary()[measurement].fields[field].unit) == 1.0


def test_service_recomputes_the_current_hour_as_data_arrives(
    config: CityConfig, query: InfluxQuery, writer: InfluxV1Writer
) -> None:
    means = air_data(config, writer)
    now = DAY0 + 14 * HOUR_NS + 20 * MIN
    service = DeriveService(query, writer, config, interval_s=0.05, catch_up_hours=4, clock=lambda: now)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: service.passes >= 1, 20, "the first pass")
        hour = DAY0 + 14 * HOUR_NS
        before = query.rows(f"SELECT aqi FROM aqi WHERE kind = 'hourly' AND time = {hour}")[0]["aqi"]
        # A late, high PM reading arrives for the current hour; the next passes pick it up.
        late = {"pm25": 400.0, "pm10": 500.0}
        write(writer, [reading(config, "air_quality", "gw1", "pm1", "aq1", late, hour + 50 * MIN)])
        passes = service.passes
        wait_for(lambda: service.passes >= passes + 2, 20, "two more passes")
    finally:
        stop.set()
        thread.join(10)
    means["pm25"][hour] = (means["pm25"][hour] * 2 + 400.0) / 3
    means["pm10"][hour] = (means["pm10"][hour] * 2 + 500.0) / 3
    window = {p: [means[p].get(hour - k * HOUR_NS) for k in range(12)] for p in PM}
    expected = hourly_aqi(window | {g: [means[g][hour]] for g in GASES})
    after = query.rows(f"SELECT aqi FROM aqi WHERE kind = 'hourly' AND time = {hour}")[0]["aqi"]
    assert expected is not None and after == expected.aqi != before
    assert service.failures == 0


def test_service_outlives_a_database_that_is_away(config: CityConfig) -> None:
    away = "http://127.0.0.1:9"
    service = DeriveService(InfluxQuery(away, "x"), InfluxV1Writer(away, "x"), config)
    assert service.tick() is None
    assert service.failures == 1 and "unreachable" in (service.last_error or "")


def test_instants_need_an_offset_or_a_date() -> None:
    assert parse_instant("2026-01-15", CLOCK) == parse_instant("2026-01-15T00:00:00+07:00", CLOCK)
    assert parse_instant("2026-01-14T17:00:00Z", CLOCK) == parse_instant("2026-01-15", CLOCK)
    for bad, reason in (("2026-01-15T08:00", "no UTC offset"), ("15/01/2026", "not an ISO 8601")):
        with pytest.raises(ValueError, match=reason):
            parse_instant(bad, CLOCK)


@pytest.fixture
def cli(city_id: str, influx: InfluxDB, database: str, tmp_path: Path) -> tuple[typer.Typer, Path]:
    from cloud.derive.cli import derive_command, export_command, recompute_command

    app = typer.Typer()
    app.command("recompute")(recompute_command)
    app.command("derive")(derive_command)
    app.command("export-tt10")(export_command)
    path = tmp_path / "city.yaml"
    path.write_text(city_yaml(city_id, influx, database), encoding="utf-8")
    return app, path


def test_commands(
    cli: tuple[typer.Typer, Path], config: CityConfig, writer: InfluxV1Writer, tmp_path: Path
) -> None:
    app, path = cli
    air_data(config, writer)
    runner = CliRunner()
    day = DAY.isoformat()
    next_day = (DAY + timedelta(days=1)).isoformat()

    ok = runner.invoke(app, ["recompute", "--config", str(path), "--from", day, "--to", next_day])
    assert ok.exit_code == 0, ok.output
    assert "hours: 24, days: 1" in ok.output and "aqi 24" in ok.output  # 23 hourly + 1 daily

    bad = runner.invoke(app, ["recompute", "--config", str(path), "--from", f"{day}T08:00", "--to", next_day])
    assert bad.exit_code == 2 and "--from" in bad.output and "no UTC offset" in bad.output
    backwards = runner.invoke(app, ["recompute", "--config", str(path), "--from", next_day, "--to", day])
    assert backwards.exit_code == 2 and "must be after" in backwards.output
    away = runner.invoke(
        app,
        [
            "recompute",
            "--config",
            str(path),
            "--from",
            day,
            "--to",
            next_day,
            "--influxdb",
            "http://127.0.0.1:9",
        ],
    )
    assert away.exit_code == 1 and "unreachable" in away.output and "Traceback" not in away.output
    missing = runner.invoke(
        app, ["recompute", "--config", str(tmp_path / "nope.yaml"), "--from", day, "--to", next_day]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output

    once = runner.invoke(app, ["derive", "--config", str(path), "--once", "--catch-up-hours", "3"])
    assert once.exit_code == 0 and "hours: 3" in once.output, once.output

    out = tmp_path / "export"
    args = ["export-tt10", "--config", str(path), "--site", "aq1", "--from", f"{day}T08:00:00+07:00"]
    exported = runner.invoke(app, [*args, "--to", f"{day}T09:00:00+07:00", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    files = sorted(out.iterdir())
    assert len(files) == 4 and "files" in exported.output  # pm1 at :05, :20 (calibrating), :35; gas1 at :15
    assert all(
        not parse_file(f.name, f.read_bytes(), Tt10Options(measurement="air_quality")).rejects for f in files
    )
    unknown = runner.invoke(
        app,
        [
            "export-tt10",
            "--config",
            str(path),
            "--site",
            "aq7",
            "--from",
            day,
            "--to",
            next_day,
            "--out",
            str(out),
        ],
    )
    assert unknown.exit_code == 2 and "no site 'aq7'" in unknown.output
    bad_code = runner.invoke(app, [*args, "--to", next_day, "--out", str(out), "--station", "A B"])
    assert bad_code.exit_code == 2 and "station code 'A B'" in bad_code.output
