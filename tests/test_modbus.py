"""Modbus families: register maps, value decoding, simulators over TCP and a pty, shared buses."""

from __future__ import annotations

import itertools
import math
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from firmware_bridge import registry
from firmware_bridge.modbus import (
    AIR_FAMILY,
    BUSES,
    FAULTS,
    WATER_FAMILY,
    MapError,
    ModbusDeviceError,
    ModbusOptions,
    ModbusSimulator,
    load_map,
    shipped_maps,
)
from firmware_bridge.modbus.codec import INT_RANGE, WIDTH, raw_to_registers, registers_to_raw
from firmware_bridge.modbus.options import parse_port
from firmware_bridge.modbus.regmap import Register, parse_map, plan_reads
from firmware_bridge.modbus.source import decode_block, decode_register
from firmware_bridge.modbus.values import AIR, WATER, ValueModel
from firmware_bridge.registry import DeviceContext, Sample
from ioc.measurements import dictionary

TYPES = ("u16", "i16", "u32", "i32", "f32")
ORDERS = ("big", "little")


def reg(type_: str = "u16", **kw: Any) -> Register:
    return Register(field=kw.pop("field", "pH"), address=kw.pop("address", 0), type=type_, **kw)


def write_map(tmp_path: Path, registers: list[dict[str, Any]], measurement: str = "water_quality") -> Path:
    path = tmp_path / "sonde.yaml"
    path.write_text(yaml.safe_dump({"measurement": measurement, "registers": registers}), encoding="utf-8")
    return path


# --- register maps -----------------------------------------------------------------------------


def test_shipped_maps_load_and_cover_both_families() -> None:
    maps = {name: load_map(name) for name in shipped_maps()}
    water = [n for n, m in maps.items() if m.measurement == "water_quality"]
    air = [n for n, m in maps.items() if m.measurement == "air_quality"]
    assert {"yosemitech-do", "yosemitech-ph", "multiparameter-sonde"} <= set(water)
    assert air == ["air-station"]
    sonde = maps["multiparameter-sonde"]
    assert sonde.fields == [
        "dissolvedOxygen", "turbidity", "conductivity", "pH", "temperature", "orp", "chlorophyll", "bga",
    ]  # fmt: skip
    assert [(b.function, b.address, b.count) for b in plan_reads(sonde.registers)] == [("holding", 0, 16)]
    station = maps["air-station"]
    assert {"no2", "so2", "o3", "co", "pm25", "pm10", "temperature", "relativeHumidity"} <= set(
        station.fields
    )
    assert [(b.address, b.count) for b in plan_reads(station.registers)] == [(0, 7), (16, 3)]
    ph = maps["yosemitech-ph"].registers[0]
    assert (ph.address, ph.type, ph.word_order) == (0x2800, "f32", "little")


@pytest.mark.parametrize(
    ("registers", "expected"),
    [
        (
            [{"field": "pH", "address": 0, "type": "float"}],
            r"registers\[0\] \(field 'pH'\): key 'type': .*'float'",
        ),
        (
            [{"field": "pH", "address": 0, "type": "f32", "scal": 2}],
            r"registers\[0\] \(field 'pH'\): key 'scal'",
        ),
        ([{"field": "ph", "address": 0, "type": "f32"}], r"key 'field': not a field of .*did you mean 'pH'"),
        ([{"field": "pH", "address": 70000, "type": "u16"}], r"registers\[0\] \(field 'pH'\): key 'address'"),
        ([{"field": "pH", "address": 0, "type": "u16", "scale": 0}], r"key 'scale': .*other than 0"),
        (
            [{"field": "pH", "address": 0, "type": "f32"}, {"field": "orp", "address": 1, "type": "u16"}],
            r"registers\[1\] \(field 'orp'\): key 'address': 0x0001–0x0001 overlaps registers\[0\]",
        ),
        (
            [{"field": "pH", "address": 0, "type": "u16"}, {"field": "pH", "address": 4, "type": "u16"}],
            r"registers\[1\] \(field 'pH'\): key 'field': already read by registers\[0\]",
        ),
        ([{"field": "pH", "address": 0xFFFF, "type": "u32"}], r"runs past 0xffff"),
        ([], r"key 'registers'"),
    ],
)
def test_map_errors_name_the_file_register_and_key(
    tmp_path: Path, registers: list[dict[str, Any]], expected: str
) -> None:
    path = write_map(tmp_path, registers)
    with pytest.raises(MapError, match=expected) as err:
        load_map(str(path))
    assert str(err.value).startswith(f"register map {path}: ")


def test_map_file_problems(tmp_path: Path) -> None:
    with pytest.raises(MapError, match=r"cannot read it"):
        load_map(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("registers: [", encoding="utf-8")
    with pytest.raises(MapError, match=r"bad.yaml: not valid YAML"):
        load_map(str(bad))
    with pytest.raises(MapError, match=r"key 'measurement': 'water' is not a measurement"):
        parse_map("measurement: water\nregisters: [{field: pH, address: 0, type: u16}]", "x.yaml")
    path = write_map(tmp_path, [{"field": "pH", "address": 0, "type": "f32"}])
    with pytest.raises(
        MapError, match=r"the map is for water_quality, but this device family reads air_quality"
    ):
        load_map(str(path), "air_quality")
    with pytest.raises(MapError, match=r"unknown register map 'yosemitech-p'.*did you mean 'yosemitech-ph'"):
        load_map("yosemitech-p")


def test_options_model() -> None:
    options = ModbusOptions.model_validate({"map": "air-station", "unit": 5})
    assert (options.framer, options.timeout_s, options.retries) == (None, 1.0, 1)
    # A path is only read when the device starts; it may exist on the gateway alone.
    assert ModbusOptions(map="/etc/ioc/maps/sonde.yaml", unit=247).map == "/etc/ioc/maps/sonde.yaml"
    for bad in (
        {"map": "air-station", "unit": 0},
        {"map": "air-station", "unit": 248},
        {"map": "air-station", "unit": 1, "baud": 9600},
        {"map": "air-station", "unit": 1, "framer": "ascii"},
        {"map": "air-statoin", "unit": 1},
        {"unit": 1},
    ):
        with pytest.raises(ValidationError):
            ModbusOptions.model_validate(bad)


def test_port_forms(tmp_path: Path) -> None:
    tcp = parse_port("192.168.1.20:502")
    assert (tcp.kind, tcp.target, tcp.tcp_port, tcp.framer) == ("tcp", "192.168.1.20", 502, "socket")
    assert parse_port("tcp://Gateway.local:1502").key == "gateway.local:1502"
    rtu_tcp = parse_port("rtu+tcp://10.0.0.7:4001")
    assert (rtu_tcp.kind, rtu_tcp.framer, rtu_tcp.key) == ("tcp", "rtu", "10.0.0.7:4001")
    assert parse_port("10.0.0.7:4001", "rtu") == rtu_tcp
    assert parse_port("socket://10.0.0.7:4001").kind == "serial"  # pyserial URL, RTU frames
    assert parse_port("socket://10.0.0.7:4001", "socket") == parse_port("10.0.0.7:4001")
    assert parse_port("rfc2217://10.0.0.7:4001").target == "rfc2217://10.0.0.7:4001"
    # Two names of one adapter are one bus.
    target = tmp_path / "ttyUSB0"
    target.touch()
    (tmp_path / "by-id").symlink_to(target)
    assert parse_port(str(tmp_path / "by-id")).key == parse_port(str(target)).key
    for bad, framer in (
        ("", None),
        ("/dev/ttyUSB0", "socket"),
        ("rtu+tcp://h:1", "socket"),
        ("h:70000", None),
    ):
        with pytest.raises(ValueError):
            parse_port(bad, framer)  # type: ignore[arg-type]


def test_plan_reads_groups_contiguous_ranges_up_to_125() -> None:
    regs = tuple(reg("u16", field=f"f{i}", address=a) for i, a in enumerate([10, 11, 12, 20]))
    regs += (reg("f32", field="x", address=13), reg("u16", field="y", address=10, function="input"))
    blocks = plan_reads(regs)
    assert [(b.function, b.address, b.count) for b in blocks] == [
        ("holding", 10, 5),
        ("holding", 20, 1),
        ("input", 10, 1),
    ]
    long_run = tuple(reg("f32", field=f"f{i}", address=2 * i) for i in range(100))  # 200 registers
    assert [(b.address, b.count) for b in plan_reads(long_run)] == [(0, 124), (124, 76)]


# --- decoding ----------------------------------------------------------------------------------

# float32 7.0 is 0x40E00000 and 25.5 is 0x41CC0000; 1.5 is 0x3FC00000.
HAND_DECODED = [
    ("u16", "big", "big", [0x1234], 0x1234),
    ("u16", "big", "little", [0x3412], 0x1234),
    ("i16", "big", "big", [0xFFFE], -2),
    ("i16", "big", "little", [0xFEFF], -2),
    ("u32", "big", "big", [0x0001, 0x0002], 0x0001_0002),
    ("u32", "little", "big", [0x0002, 0x0001], 0x0001_0002),
    ("u32", "big", "little", [0x0100, 0x0200], 0x0001_0002),
    ("u32", "little", "little", [0x0200, 0x0100], 0x0001_0002),
    ("i32", "big", "big", [0xFFFF, 0xFFFE], -2),
    ("i32", "little", "big", [0xFFFE, 0xFFFF], -2),
    ("i32", "little", "little", [0xFEFF, 0xFFFF], -2),
    ("f32", "big", "big", [0x40E0, 0x0000], 7.0),
    ("f32", "little", "big", [0x0000, 0x40E0], 7.0),
    ("f32", "big", "little", [0xE040, 0x0000], 7.0),
    ("f32", "little", "little", [0x0000, 0xE040], 7.0),
    ("f32", "little", "big", [0x0000, 0x3FC0], 1.5),
]


@pytest.mark.parametrize(("type_", "word", "byte", "words", "expected"), HAND_DECODED)
def test_decode_by_hand(type_: str, word: str, byte: str, words: list[int], expected: float) -> None:
    assert registers_to_raw(words, type_, word, byte) == expected  # type: ignore[arg-type]
    assert raw_to_registers(expected, type_, word, byte) == words  # type: ignore[arg-type]


def test_scale_offset_and_float_digits() -> None:
    assert decode_register(reg("u16", scale=0.1), [253]) == 25.3
    assert decode_register(reg("i16", scale=0.1), [0xFF38]) == -20.0  # -200
    assert decode_register(reg("u16", scale=0.1, offset=-273.1), [2731]) == 0.0
    value = decode_register(reg("u16"), [7])
    assert value == 7.0 and isinstance(value, float)  # one field keeps one type in InfluxDB
    # 7.12 as float32 is 7.119999885559082; the decoder reports the 7 digits a float32 carries.
    words = list(struct.unpack(">HH", struct.pack(">f", 7.12)))
    assert decode_register(reg("f32"), words) == 7.12
    assert math.isnan(decode_register(reg("f32"), [0x7FC0, 0x0000]))


def test_yosemitech_ph_reply_by_hand() -> None:
    """pH 7.0 and 25.5 °C from a Y532-style probe: floats with swapped words (CDAB) at 0x2800."""
    block = plan_reads(load_map("yosemitech-ph").registers)[0]
    assert (block.address, block.count) == (0x2800, 4)
    assert decode_block(block, [0x0000, 0x40E0, 0x0000, 0x41CC]) == {"pH": 7.0, "temperature": 25.5}


def _raw_values(type_: str) -> st.SearchStrategy[int | float]:
    if type_ == "f32":
        return st.floats(width=32, allow_nan=False)
    low, high = INT_RANGE[type_]
    return st.integers(low, high)


@st.composite
def typed_raw(draw: st.DrawFn) -> tuple[str, str, str, int | float]:
    type_ = draw(st.sampled_from(TYPES))
    return type_, draw(st.sampled_from(ORDERS)), draw(st.sampled_from(ORDERS)), draw(_raw_values(type_))


@given(typed_raw())
def test_encode_decode_round_trip(case: tuple[str, str, str, int | float]) -> None:
    type_, word, byte, raw = case
    words = raw_to_registers(raw, type_, word, byte)  # type: ignore[arg-type]
    assert len(words) == WIDTH[type_] and all(0 <= w <= 0xFFFF for w in words)
    assert registers_to_raw(words, type_, word, byte) == raw  # type: ignore[arg-type]


@given(
    st.sampled_from(TYPES),
    st.sampled_from(ORDERS),
    st.sampled_from(ORDERS),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 0 and abs(x) > 1e-9),
    st.lists(st.integers(-(2**20), 2**20), min_size=2, max_size=2),
)
def test_arbitrary_registers_never_raise(
    type_: str, word: str, byte: str, scale: float, words: list[int]
) -> None:
    register = reg(type_, word_order=word, byte_order=byte, scale=scale)
    assert isinstance(decode_register(register, words[: register.width]), float)


@given(st.sets(st.integers(0, 400), min_size=1, max_size=60), st.randoms())
def test_plan_reads_covers_every_register_once(addresses: set[int], rnd: random.Random) -> None:
    regs: list[Register] = []
    taken: set[int] = set()
    for i, address in enumerate(sorted(addresses)):
        type_ = rnd.choice(TYPES)
        span = set(range(address, address + WIDTH[type_]))
        if not span & taken:
            taken |= span
            regs.append(reg(type_, field=f"f{i}", address=address, function=rnd.choice(["holding", "input"])))
    blocks = plan_reads(tuple(regs))
    assert sorted(r.field for b in blocks for r in b.registers) == sorted(r.field for r in regs)
    for block in blocks:
        assert block.count <= 125
        covered = sorted(a for r in block.registers for a in range(r.address, r.end + 1))
        assert covered == list(range(block.address, block.address + block.count))  # no gap is read
    for a, b in itertools.pairwise(blocks):
        # Never two requests where one would do.
        assert (
            a.function != b.function
            or b.address > a.address + a.count
            or b.address + b.count - a.address > 125
        )


# --- simulated values --------------------------------------------------------------------------


def test_simulated_values_stay_plausible_and_follow_the_day() -> None:
    day = 1_767_225_600  # 2026-01-01 00:00 UTC = 07:00 in Vietnam
    water = ValueModel("water_quality", list(WATER), random.Random(1))
    air = ValueModel("air_quality", [*AIR, "pm10"], random.Random(1))
    by_hour: dict[int, list[dict[str, float]]] = {}
    for step in range(24 * 60):
        now = day + step * 60
        values = {**water.step(now), **{f"air_{k}": v for k, v in air.step(now).items()}}
        by_hour.setdefault((step // 60 + 7) % 24, []).append(values)
        for name, profile in WATER.items():
            assert profile.low <= values[name] <= profile.high
        for name, profile in AIR.items():
            assert profile.low <= values[f"air_{name}"] <= profile.high
        assert values["air_pm10"] >= values["air_pm25"]

    def mean(hour: int, name: str) -> float:
        return sum(v[name] for v in by_hour[hour]) / len(by_hour[hour])

    assert mean(15, "dissolvedOxygen") > mean(5, "dissolvedOxygen")
    assert mean(15, "temperature") > mean(5, "temperature")
    assert mean(8, "air_pm25") > mean(3, "air_pm25") and mean(19, "air_pm25") > mean(13, "air_pm25")
    again = ValueModel("water_quality", list(WATER), random.Random(1))
    assert again.step(day) == ValueModel("water_quality", list(WATER), random.Random(1)).step(day)


# --- simulators and sources --------------------------------------------------------------------


@pytest.fixture
def make_sim() -> Iterator[Callable[..., ModbusSimulator]]:
    sims: list[ModbusSimulator] = []

    def make(**kwargs: Any) -> ModbusSimulator:
        sim = ModbusSimulator(**kwargs)
        sims.append(sim)
        sim.start()
        return sim

    yield make
    for sim in sims:
        sim.stop()


def context(sim: ModbusSimulator, unit: int, **options: Any) -> DeviceContext:
    opts = ModbusOptions(map=sim.units[unit], unit=unit, **options)
    return DeviceContext(f"dev-{unit}", sim.port, None, 0.1, opts, Path("/nonexistent"))


def served(sim: ModbusSimulator, unit: int) -> list[dict[str, Any]]:
    return [fields for _, fields in sim.emitted_by_unit[unit]]


def assert_served(sim: ModbusSimulator, unit: int, samples: list[Sample]) -> None:
    """Every sample holds values the unit served. A map read in one request gives one whole update;
    with several requests the device may update between them, so each field is checked alone."""
    updates = served(sim, unit)
    one_request = len(plan_reads(load_map(sim.units[unit]).registers)) == 1
    for sample in samples:
        if one_request:
            assert sample.fields in updates
        else:
            for name, value in sample.fields.items():
                assert value in {update[name] for update in updates}


class Runner:
    """Runs sources as the edge does: each in its own thread, restarted after a failure."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.samples: dict[str, list[Sample]] = {}
        self.errors: dict[str, list[Exception]] = {}
        self.threads: list[threading.Thread] = []

    def start(self, family: registry.DeviceFamily, ctx: DeviceContext) -> None:
        samples = self.samples.setdefault(ctx.device_id, [])
        errors = self.errors.setdefault(ctx.device_id, [])

        def loop() -> None:
            while not self.stop.is_set():
                try:
                    assert family.new_source is not None
                    family.new_source(ctx).run(samples.append, self.stop)
                except Exception as exc:
                    errors.append(exc)
                    self.stop.wait(0.05)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self.threads.append(thread)

    def wait_until(self, condition: Callable[[], bool], within_s: float = 10.0) -> None:
        deadline = time.monotonic() + within_s
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert condition(), f"samples {self.counts()}, errors {self.errors}"

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.samples.items()}

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


@pytest.fixture
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()
    assert BUSES.open_buses() == {}  # every bus closed when its last device stopped


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("family", "transport", "port_form"),
    [
        (WATER_FAMILY, "tcp", "127.0.0.1:"),  # Modbus TCP
        (AIR_FAMILY, "tcp", "127.0.0.1:"),
        (WATER_FAMILY, "rtu", "/dev/"),  # RTU on a pty, as on an RS-485 adapter
        (AIR_FAMILY, "rtu+tcp", "rtu+tcp://127.0.0.1:"),  # a serial-to-Ethernet server
        (WATER_FAMILY, "rtu+tcp", "socket://127.0.0.1:"),  # the same, through pyserial's URL
    ],
)
def test_source_reads_what_the_simulator_serves(
    make_sim: Callable[..., ModbusSimulator],
    runner: Runner,
    family: registry.DeviceFamily,
    transport: str,
    port_form: str,
) -> None:
    sim = make_sim(interval_s=0.05, seed=3, measurement=family.measurement, transport=transport)
    if port_form.startswith("socket://"):
        sim.port = sim.port.replace("rtu+tcp://", "socket://")
    assert sim.port.startswith(port_form)
    runner.start(family, context(sim, 1, timeout_s=0.5))
    runner.wait_until(lambda: len(runner.samples["dev-1"]) >= 3)
    assert runner.errors["dev-1"] == []
    assert_served(sim, 1, runner.samples["dev-1"])
    assert (
        set(runner.samples["dev-1"][0].fields)
        == set(load_map(sim.units[1]).fields)
        <= set(dictionary()[family.measurement].fields)
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("fault", "transport"),
    [("dropout", "rtu"), ("exception", "rtu"), ("garbage", "tcp"), ("garbage", "rtu+tcp")],
)
def test_shared_bus_survives_one_faulty_slave(
    make_sim: Callable[..., ModbusSimulator], runner: Runner, fault: str, transport: str
) -> None:
    probes = {1: "yosemitech-do", 2: "yosemitech-turbidity", 3: "yosemitech-ph"}
    sim = make_sim(interval_s=0.05, seed=5, units=probes, transport=transport)
    sim.set_fault(fault, unit=2)
    for unit in probes:
        runner.start(WATER_FAMILY, context(sim, unit, timeout_s=0.5, retries=0))
    runner.wait_until(lambda: min(len(runner.samples[f"dev-{u}"]) for u in (1, 3)) >= 4)
    runner.wait_until(lambda: len(runner.errors["dev-2"]) >= 2)
    assert list(BUSES.open_buses().values()) in ([["dev-1", "dev-3"]], [["dev-1", "dev-2", "dev-3"]])
    for unit in (1, 3):
        assert runner.errors[f"dev-{unit}"] == []
        assert_served(sim, unit, runner.samples[f"dev-{unit}"])
    assert runner.samples["dev-2"] == []
    error = runner.errors["dev-2"][0]
    assert isinstance(error, ModbusDeviceError)
    assert "device dev-2, unit 2" in str(error) and "at 0x2600" in str(error)
    # The slave recovers and is read again through the same shared client.
    sim.set_fault(None, unit=2)
    runner.wait_until(lambda: len(runner.samples["dev-2"]) >= 2)
    runner.close()
    # Requests never overlapped: every reply follows its own request, with no other one between.
    events = list(sim.events)
    assert {e.unit for e in events if e.kind == "request"} == {1, 2, 3}
    for i, event in enumerate(events):
        if event.kind == "reply":
            assert i > 0 and events[i - 1].kind == "request" and events[i - 1].unit == event.unit


@pytest.mark.timeout(20)
def test_stuck_slave_keeps_answering_old_values(
    make_sim: Callable[..., ModbusSimulator], runner: Runner
) -> None:
    sim = make_sim(interval_s=0.02, seed=7, transport="rtu")
    runner.wait_until(lambda: len(sim.emitted) >= 2)
    sim.set_fault("stuck")
    frozen = len(sim.emitted)
    runner.start(WATER_FAMILY, context(sim, 1, timeout_s=0.5))
    runner.wait_until(lambda: len(runner.samples["dev-1"]) >= 3)
    assert len(sim.emitted) == frozen
    assert all(s.fields == sim.emitted[-1][1] for s in runner.samples["dev-1"])


def test_bus_registry_shares_and_checks_line_settings(tmp_path: Path) -> None:
    address = parse_port(str(tmp_path / "ttyUSB9"))
    bus = BUSES.acquire(address, "a", 9600, 1.0)
    try:
        assert BUSES.acquire(address, "b", 9600, 1.0) is bus
        with pytest.raises(ValueError, match=r"already open at 9600 baud for a, b"):
            BUSES.acquire(address, "c", 19200, 1.0)
        BUSES.release(bus, "b")
        assert BUSES.open_buses() == {address.key: ["a"]}
    finally:
        BUSES.release(bus, "a")
    assert BUSES.open_buses() == {}


@pytest.mark.timeout(20)
def test_unreachable_port_fails_with_a_clear_error(tmp_path: Path) -> None:
    opts = ModbusOptions(map="yosemitech-ph", unit=9, timeout_s=0.1, retries=0)
    ctx = DeviceContext("wq-x", str(tmp_path / "no-such-tty"), None, 1.0, opts, tmp_path)
    with pytest.raises(
        ModbusDeviceError, match=r"device wq-x, unit 9 on .*no-such-tty: .* at 0x2800 .*cannot open"
    ):
        WATER_FAMILY.new_source(ctx).run(lambda _s: None, threading.Event())  # type: ignore[misc]
    assert BUSES.open_buses() == {}


@pytest.mark.timeout(20)
def test_simulator_faults_and_clean_stop() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        ModbusSimulator().set_fault("smoke")
    assert set(FAULTS) == {"dropout", "garbage", "stuck", "exception"}
    sim = ModbusSimulator(units=[1, 2], interval_s=0.05)
    with pytest.raises(ValueError, match="no unit 3"):
        sim.set_fault("dropout", unit=3)
    with sim:
        host, port = sim.port.split(":")
        assert host == "127.0.0.1" and int(port) > 0
        threads = {t.name for t in threading.enumerate()}
        assert "modbus-sim-tcp" in threads
    assert "modbus-sim-tcp" not in {t.name for t in threading.enumerate()}
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass


# --- registry ----------------------------------------------------------------------------------


def test_families_are_registered() -> None:
    for family, measurement in ((WATER_FAMILY, "water_quality"), (AIR_FAMILY, "air_quality")):
        assert registry.get(family.name) is family
        assert (family.measurement, family.transport, family.options) == (
            measurement,
            "modbus",
            ModbusOptions,
        )
        assert family.new_source is not None and family.new_decoder is None
        sim = family.new_simulator(interval_s=1.0, seed=1, noise=0.0)
        try:
            assert isinstance(sim, registry.Simulator)
            assert set(sim.emitted[-1][1]) <= set(dictionary()[measurement].fields)
        finally:
            sim.stop()


def test_sample_config_is_valid() -> None:
    text = resources.files("firmware_bridge.modbus").joinpath("sample.yaml").read_text(encoding="utf-8")
    sample = yaml.safe_load(text)
    family = registry.get(sample["family"])
    assert family is WATER_FAMILY and family.options is not None
    options = family.options.model_validate(sample["options"])
    assert load_map(options.map, family.measurement)
