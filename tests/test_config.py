"""Config loading: the shipped cities load, and broken files report every problem with its line."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

from ioc.config import ConfigError, ConfigProblem, format_problems, load_city

CITIES = Path(__file__).resolve().parent.parent / "configs" / "cities"
FAMILIES = {"sds011"}

# Line numbers asserted below count from "city:" as line 1.
GOOD = """\
city:
  id: tst
  name: Thử Nghiệm
  province: Đắk Lắk
sites:
  - id: tst-aq01
    name: Ngã Sáu
    kind: air
    lat: 12.668
    lon: 108.038
  - id: tst-wq01
    name: Hồ Ea Tam
    kind: water
    lat: 12.654
    lon: 108.020
gateways:
  - id: tst-gw01
    site: tst-aq01
    devices:
      - id: tst-aq01-pm
        family: sds011
        port: /dev/ttyUSB0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, families: set[str] | None = FAMILIES) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_city(path, families=families)
    return caught.value.problems


@pytest.mark.parametrize("name", ["buon-ma-thuot", "lang-son", "phan-thiet"])
def test_shipped_cities_load(name: str) -> None:
    from firmware_bridge import registry

    config = load_city(CITIES / f"{name}.yaml", families=registry.config_specs())
    assert 4 <= len(config.sites) <= 6
    assert {site.kind for site in config.sites} >= {"air", "water", "weigh", "traffic"}
    # Each device sits at a site of the kind it measures.
    measures = {
        "air_quality": "air",
        "water_quality": "water",
        "scale": "weigh",
        "traffic_signal": "traffic",
        "camera_health": "traffic",
    }
    kinds = set()
    for gateway, device in config.devices():
        kind = config.site(config.device_site(gateway, device)).kind
        assert kind in {measures[registry.get(device.family).measurement], "mixed"}, device.id
        kinds.add(kind)
    assert kinds >= {"air", "water", "weigh", "traffic"}, "every kind of site has a device"


def test_good_config_and_helpers(tmp_path: Path) -> None:
    config = load_city(write(tmp_path, GOOD), families=FAMILIES)
    gateway, device = next(config.devices())
    assert config.device_site(gateway, device) == "tst-aq01"
    assert device.baudrate is None and device.poll_interval_s == 1.0
    assert config.mqtt.port == 1883 and config.influxdb.database == "ioc"
    assert config.city.timezone == "Asia/Ho_Chi_Minh"
    with pytest.raises(KeyError):
        config.site("nowhere")


def test_typo_key_names_file_line_path_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    lat: 12.654", "    lattitude: 12.654"))
    problems = problems_of(path)
    unknown = [p for p in problems if p.message == "unknown key"]
    assert len(unknown) == 1
    assert unknown[0] == ConfigProblem(str(path), 14, "sites[1].lattitude", "unknown key", "lat")
    # The missing lat is reported on the line where that site starts.
    missing = [p for p in problems if p.path == "sites[1].lat"]
    assert missing and missing[0].line == 11
    text = str(ConfigError(unknown))
    assert text.splitlines() == [
        f"Failed config: 1 problem in {path}",
        f"  {path}:14: sites[1].lattitude: unknown key — did you mean 'lat'?",
    ]


def test_wrong_type_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "        baudrate: fast\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.path) == (23, "gateways[0].devices[0].baudrate")
    assert problem.message.startswith("Input should be a valid integer")
    assert problem.message.endswith("(got 'fast')")
    assert f"{path}:23: gateways[0].devices[0].baudrate: Input should be a valid integer" in str(
        ConfigError([problem])
    )


def test_unknown_family_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("family: sds011", "family: sds01"))
    (problem,) = problems_of(path)
    assert (problem.line, problem.path, problem.suggestion) == (21, "gateways[0].devices[0].family", "sds011")
    assert "unknown device family 'sds01'" in problem.message
    # Without a family list the family is not checked.
    assert load_city(path).gateways[0].devices[0].family == "sds01"


def test_unknown_site_reference_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    site: tst-aq01", "    site: tst-aq1"))
    (problem,) = problems_of(path)
    assert (problem.line, problem.path) == (18, "gateways[0].site")
    assert (problem.message, problem.suggestion) == ("unknown site 'tst-aq1'", "tst-aq01")


def test_device_site_reference_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "        site: tst-wq1\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.path, problem.suggestion) == (23, "gateways[0].devices[0].site", "tst-wq01")


def test_duplicate_ids(tmp_path: Path) -> None:
    text = GOOD.replace("id: tst-wq01", "id: tst-aq01") + (
        "  - id: tst-gw01\n"
        "    site: tst-aq01\n"
        "    devices:\n"
        "      - id: tst-aq01-pm\n"
        "        family: sds011\n"
    )
    problems = problems_of(write(tmp_path, text))
    assert [(p.line, p.path) for p in problems] == [
        (11, "sites[1].id"),
        (23, "gateways[1].id"),
        (26, "gateways[1].devices[0].id"),
    ]
    assert problems[0].message == "duplicate site id 'tst-aq01' (first defined at line 6)"
    assert problems[1].message == "duplicate gateway id 'tst-gw01' (first defined at line 17)"
    assert problems[2].message == "duplicate device id 'tst-aq01-pm' (first defined at line 20)"


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    lon: 108.020\n", "    lon: 108.020\n    lon: 108.021\n"))
    (problem,) = problems_of(path)
    assert (problem.line, problem.path) == (16, "sites[1].lon")
    assert problem.message == "duplicate key 'lon' (first defined at line 15)"


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    kind: water", "    kind: water: lake"))
    (problem,) = problems_of(path)
    assert (problem.file, problem.line, problem.path) == (str(path), 13, "")
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed here")
    assert str(ConfigError([problem])).splitlines()[1].startswith(f"  {path}:13: YAML syntax error")


def test_shared_serial_port_conflicts(tmp_path: Path) -> None:
    devices = [
        ("tst-aq01-pm2", "sds011", "baudrate: 19200", "/dev/ttyUSB0"),  # 24-27: same family, other baud
        ("tst-aq01-pm3", "pms5003", "poll_interval_s: 2", "/dev/ttyUSB0"),  # 28-31: other family
        ("tst-aq01-pm4", "pms5003", "poll_interval_s: 2", "192.168.1.20:4001"),  # 32-35: LAN, not a bus
        ("tst-aq01-pm5", "sds011", "poll_interval_s: 2", "192.168.1.20:4001"),  # 36-39
    ]
    text = GOOD.replace(
        "        port: /dev/ttyUSB0\n", "        baudrate: 9600\n        port: /dev/ttyUSB0\n"
    )
    for ident, family, extra, port in devices:
        text += f"      - id: {ident}\n        family: {family}\n        {extra}\n        port: {port}\n"
    problems = problems_of(write(tmp_path, text), families=None)
    assert [(p.line, p.path) for p in problems] == [
        (26, "gateways[0].devices[1].baudrate"),
        (31, "gateways[0].devices[2].port"),
    ]
    assert "baud conflict on shared bus '/dev/ttyUSB0'" in problems[0].message
    assert "different families" in problems[1].message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = GOOD
    for old, new in [
        ("  id: tst\n", "  id: TST\n"),  # 2: not an id
        ("    kind: air", "    kind: airr"),  # 8
        ("    lat: 12.654", "    lattitude: 12.654"),  # 14 + the missing lat at 11
        ("    site: tst-aq01", "    site: tst-aq1"),  # 18
        ("family: sds011", "family: sds01"),  # 21
    ]:
        text = text.replace(old, new)
    text += "        poll_interval_s: 0\n"  # 23
    text += "mqtt:\n  port: 70000\n  batch_max_readings: many\n"  # 25, 26
    problems = problems_of(write(tmp_path, text))
    assert [(p.line, p.path) for p in problems] == [
        (2, "city.id"),
        (8, "sites[0].kind"),
        (11, "sites[1].lat"),
        (14, "sites[1].lattitude"),
        (18, "gateways[0].site"),
        (21, "gateways[0].devices[0].family"),
        (23, "gateways[0].devices[0].poll_interval_s"),
        (25, "mqtt.port"),
        (26, "mqtt.batch_max_readings"),
    ]
    assert problems[1].suggestion == "air"
    report = format_problems(problems)
    assert report.startswith(f"Failed config: 9 problems in {tmp_path / 'city.yaml'}\n")
    assert len(report.splitlines()) == 10


def test_not_a_mapping_and_unreadable(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, "- just\n- a list\n"))
    assert problem.line == 1 and "expected a mapping" in problem.message
    (problem,) = problems_of(tmp_path / "missing.yaml")
    assert problem.line is None and "cannot read" in problem.message


def test_merge_keys_and_error_pickles(tmp_path: Path) -> None:
    text = GOOD.replace("gateways:\n", "x-defaults: &pm\n  family: sds011\ngateways:\n")
    problems = problems_of(write(tmp_path, text))
    assert [(p.line, p.path, p.message) for p in problems] == [(16, "x-defaults", "unknown key")]
    text = GOOD.replace("        family: sds011\n", "        <<: {family: sds011, baudrate: 9600}\n")
    config = load_city(write(tmp_path, text), families=FAMILIES)
    assert config.gateways[0].devices[0].baudrate == 9600
    error = ConfigError(problems)
    assert pickle.loads(pickle.dumps(error)).problems == problems


def test_device_may_not_take_the_agents_own_folder_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      - id: tst-aq01-pm\n", "      - id: config\n", 1))
    (problem,) = problems_of(path)
    assert (problem.line, problem.path) == (20, "gateways[0].devices[0].id")
    assert "agent's own folder" in problem.message
