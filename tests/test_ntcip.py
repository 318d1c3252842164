"""Traffic signal controllers: NTCIP 1202 decoding and conflict check, a real SNMP GET round trip
against the simulator's agent, and JSON status over a real Mosquitto."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import publish
from pydantic import ValidationError

from firmware_bridge import registry
from firmware_bridge.ntcip import (
    NTCIP_FAMILY,
    TSC_MQTT_FAMILY,
    NtcipError,
    NtcipOptions,
    NtcipSimulator,
    NtcipSource,
    TscMqttOptions,
    TscMqttSimulator,
    TscMqttSource,
    TscStatusDecoder,
    decode_ntcip,
    encode_status,
)
from firmware_bridge.ntcip.mqtt_simulator import malformed, snapshot_payload
from firmware_bridge.ntcip.oids import SCALARS, poll_table
from firmware_bridge.ntcip.signal_plan import CONFLICTS, PLANS, SignalController
from firmware_bridge.registry import DeviceContext, Sample
from ioc.config.models import Device
from ioc.measurements import check_reading
from ioc.reading import Reading
from ioc.services import Mosquitto

MAIN_SIDE = [(2, 4), (2, 8), (6, 4), (6, 8)]
BMT = {"city": "bmt", "site": "bmt-tr01", "gateway": "bmt-gw04", "device": "bmt-tr01-tsc"}
TEN_AM = 10 * 3600  # simulated local time: the off-peak plan 1 runs


def by_group(samples: list[Sample]) -> dict[str, Sample]:
    return {s.tags["signal_group"]: s for s in samples}


def states(samples: list[Sample]) -> dict[str, str]:
    return {s.tags["signal_group"]: str(s.fields["state"]) for s in samples if "state" in s.fields}


def assert_fits_dictionary(samples: list[Sample]) -> None:
    for s in samples:
        reading = Reading("traffic_signal", {**BMT, **s.tags}, s.fields, s.time_ns or 1, s.quality)
        assert check_reading(reading) is None, (check_reading(reading), s)


# --- decoding (hand-written bitmasks) ----------------------------------------------------------

# Main street green with walk (phases 2, 6 = bits 1, 5 = 0x22), side street red (4, 8 = bits 3, 7 =
# 0x88) with don't walk; a car waits on phase 4 (0x08), someone pressed the button on 8 (0x80).
MAIN_GREEN = {
    "reds.1": 0x88,
    "yellows.1": 0x00,
    "greens.1": 0x22,
    "dont_walks.1": 0x88,
    "ped_clears.1": 0x00,
    "walks.1": 0x22,
    "vehicle_calls.1": 0x08,
    "ped_calls.1": 0x80,
    "unitControlStatus": 6,  # timebase
    "unitFlashStatus": 2,  # notFlash
    "shortAlarmStatus": 0,
    "coordPatternStatus": 3,
}


def test_phase_states_from_bitmasks() -> None:
    samples = decode_ntcip(MAIN_GREEN, list(range(1, 9)), MAIN_SIDE, time_ns=123)
    assert states(samples) == {
        "1": "dark",
        "2": "green",
        "3": "dark",
        "4": "red",
        "5": "dark",
        "6": "green",
        "7": "dark",
        "8": "red",
    }
    groups = by_group(samples)
    assert groups["2"].fields == {
        "state": "green",
        "walk": True,
        "ped_clear": False,
        "vehicle_call": False,
        "ped_call": False,
        "mode": "auto",
        "plan": 3,
    }
    assert groups["4"].fields["vehicle_call"] is True and groups["4"].fields["walk"] is False
    assert groups["8"].fields["ped_call"] is True
    assert groups["controller"].fields == {
        "mode": "auto",
        "plan": 3,
        "fault": 0,
        "conflict": False,
        "conflict_groups": "",
    }
    assert all(s.time_ns == 123 and s.quality == "good" for s in samples)
    assert list(groups) == ["1", "2", "3", "4", "5", "6", "7", "8", "controller"]
    assert_fits_dictionary(samples)


def test_yellow_ped_clear_and_second_group() -> None:
    # Phase 2 yellow with ped clearance (bit 1 = 0x02); phase 10 (group 2, bit 1) green; 12 red.
    values = {"yellows.1": 0x02, "ped_clears.1": 0x02, "reds.1": 0x08, "greens.2": 0x02, "reds.2": 0x08}
    groups = by_group(decode_ntcip(values, [2, 4, 10, 12], []))
    assert {g: s.fields["state"] for g, s in groups.items() if g != "controller"} == {
        "2": "yellow",
        "4": "red",
        "10": "green",
        "12": "red",
    }
    assert groups["2"].fields["ped_clear"] is True
    # No unit or coordination objects read: mode from the colours alone, no plan field.
    assert groups["controller"].fields == {
        "mode": "auto",
        "fault": 0,
        "conflict": False,
        "conflict_groups": "",
    }


@pytest.mark.parametrize(
    ("control", "flash", "pattern", "reds", "mode", "fault"),
    [
        (6, 2, 1, 0x88, "auto", 0),  # timebase, not flashing
        (2, 2, 1, 0x88, "auto", 0),  # system (central) control
        (5, 2, 1, 0x88, "manual", 0),  # police at the cabinet
        (6, 3, 255, 0x00, "flashing", 0),  # scheduled (automatic) flash: not a fault
        (6, 5, 255, 0x00, "flashing", 8),  # put in flash by the fault monitor
        (6, 6, 1, 0x88, "flashing", 8),  # … or by the MMU
        (6, 2, 255, 0x88, "flashing", 0),  # coordPatternStatus 255 is flash
        (6, 2, 1, 0x00, "dark", 16),  # nothing lit and not flashing
        (6, 1, 1, 0x88, "auto", 0),  # unitFlashStatus other(1) is not taken for flash
    ],
)
def test_mode_and_fault_from_unit_status(
    control: int, flash: int, pattern: int, reds: int, mode: str, fault: int
) -> None:
    values = {
        "reds.1": reds,
        "unitControlStatus": control,
        "unitFlashStatus": flash,
        "coordPatternStatus": pattern,
    }
    controller = by_group(decode_ntcip(values, [2, 4, 6, 8], MAIN_SIDE))["controller"]
    assert controller.fields["mode"] == mode
    assert controller.fields["fault"] == fault
    assert controller.fields["plan"] == pattern
    assert controller.quality == "good"


def test_alarm_bits() -> None:
    for alarm, fault in ((0x01, 4), (0x02, 32), (0x03, 36), (0x04, 0)):
        values = {**MAIN_GREEN, "shortAlarmStatus": alarm}
        assert by_group(decode_ntcip(values, [2, 4, 6, 8], MAIN_SIDE))["controller"].fields["fault"] == fault


def test_green_on_conflicting_phases_is_a_critical_fault() -> None:
    values = {**MAIN_GREEN, "greens.1": 0x2A, "reds.1": 0x80}  # 0x2A: phases 2, 4 and 6 green
    samples = decode_ntcip(values, [2, 4, 6, 8], MAIN_SIDE)
    controller = by_group(samples)["controller"]
    assert controller.fields["conflict"] is True
    assert controller.fields["conflict_groups"] == "2+4,4+6"
    assert controller.fields["fault"] == 1
    assert controller.quality == "bad"
    # The phases report what the controller shows; the fault is the controller's.
    assert states(samples) == {"2": "green", "4": "green", "6": "green", "8": "red"}
    assert_fits_dictionary(samples)


def test_yellow_counts_outside_flash_only() -> None:
    yellow_and_green = {"yellows.1": 0x20, "greens.1": 0x80, "reds.1": 0x0A}  # 6 yellow, 8 green
    fields = by_group(decode_ntcip(yellow_and_green, [2, 4, 6, 8], MAIN_SIDE))["controller"].fields
    assert (fields["conflict"], fields["conflict_groups"]) == (True, "6+8")
    # Night flash ("nháy vàng"): every approach flashes yellow together, which is not a conflict …
    all_yellow = {"yellows.1": 0xAA, "unitFlashStatus": 3, "coordPatternStatus": 255}
    samples = decode_ntcip(all_yellow, [2, 4, 6, 8], MAIN_SIDE)
    assert by_group(samples)["controller"].fields["conflict"] is False
    assert set(states(samples).values()) == {"flashing"}
    # … but a green during flash is.
    green_in_flash = {**all_yellow, "yellows.1": 0x88, "greens.1": 0x22 | 0x08, "unitFlashStatus": 3}
    assert by_group(decode_ntcip(green_in_flash, [2, 4, 6, 8], MAIN_SIDE))["controller"].fields["conflict"]


def test_two_colours_on_one_phase_is_inconsistent() -> None:
    values = {**MAIN_GREEN, "reds.1": 0x88 | 0x02}  # phase 2: red and green bits
    samples = decode_ntcip(values, [2, 4, 6, 8], MAIN_SIDE)
    groups = by_group(samples)
    assert groups["2"].fields["state"] == "green"  # the dangerous one of the two
    assert groups["2"].quality == "bad"
    assert groups["6"].quality == "good"
    assert groups["controller"].fields["fault"] == 2
    assert groups["controller"].quality == "bad"


def test_conflict_groups_stay_within_the_string_limit() -> None:
    phases = list(range(1, 65))
    everything = {f"greens.{g}": 0xFF for g in range(1, 9)}
    pairs = [(a, b) for a in phases for b in phases if a < b]
    text = by_group(decode_ntcip(everything, phases, pairs))["controller"].fields["conflict_groups"]
    assert isinstance(text, str) and len(text) <= 256 and text.startswith("1+2,1+3,") and text.endswith(",…")


bitmask = st.integers(0, 0xFF)
phase = st.integers(1, 8)


@given(
    columns=st.fixed_dictionaries(
        {c: bitmask for c in ("reds", "yellows", "greens", "dont_walks", "ped_clears", "walks")},
    ),
    calls=st.tuples(bitmask, bitmask),
    control=st.none() | st.integers(-5, 300),
    flash=st.none() | st.integers(-5, 300),
    pattern=st.none() | st.integers(-5, 300),
    alarm=st.none() | st.integers(-(2**31), 2**31 - 1),
    phases=st.lists(phase, min_size=1, max_size=8, unique=True),
    conflicts=st.lists(st.tuples(phase, phase).filter(lambda p: p[0] != p[1]), max_size=10),
)
def test_any_bitmasks_decode_and_conflict_iff_right_of_way_overlaps(
    columns: dict[str, int],
    calls: tuple[int, int],
    control: int | None,
    flash: int | None,
    pattern: int | None,
    alarm: int | None,
    phases: list[int],
    conflicts: list[tuple[int, int]],
) -> None:
    values = {f"{c}.1": v for c, v in columns.items()}
    values["vehicle_calls.1"], values["ped_calls.1"] = calls
    for name, value in (
        ("unitControlStatus", control),
        ("unitFlashStatus", flash),
        ("coordPatternStatus", pattern),
        ("shortAlarmStatus", alarm),
    ):
        if value is not None:
            values[name] = value
    samples = decode_ntcip(values, phases, conflicts)
    assert [s.tags["signal_group"] for s in samples] == [*map(str, phases), "controller"]
    controller = samples[-1].fields
    flashing = controller["mode"] == "flashing"

    def right_of_way(p: int) -> bool:
        bit = 1 << (p - 1)
        return bool(columns["greens"] & bit) or (bool(columns["yellows"] & bit) and not flashing)

    overlapping = {tuple(sorted(p)) for p in conflicts if p[0] in phases and p[1] in phases}
    overlapping = {p for p in overlapping if right_of_way(p[0]) and right_of_way(p[1])}
    assert controller["conflict"] is bool(overlapping)
    assert controller["conflict_groups"] == ",".join(f"{a}+{b}" for a, b in sorted(overlapping))
    assert bool(int(controller["fault"]) & 1) is bool(overlapping)
    two_colours = any(
        sum(bool(columns[c] & 1 << (p - 1)) for c in ("reds", "yellows", "greens")) > 1 for p in phases
    )
    assert bool(int(controller["fault"]) & 2) is two_colours
    assert (samples[-1].quality == "bad") is (bool(overlapping) or two_colours)
    assert_fits_dictionary(samples)


def test_poll_table_reads_only_the_groups_in_use() -> None:
    table = poll_table([2, 4, 6, 8])
    assert table["greens.1"] == "1.3.6.1.4.1.1206.4.2.1.1.4.1.4.1"
    assert table["reds.1"] == "1.3.6.1.4.1.1206.4.2.1.1.4.1.2.1"
    assert table["ped_calls.1"] == "1.3.6.1.4.1.1206.4.2.1.1.4.1.9.1"
    assert table["unitFlashStatus"] == "1.3.6.1.4.1.1206.4.2.1.3.6.0"
    assert table["coordPatternStatus"] == "1.3.6.1.4.1.1206.4.2.1.4.10.0"
    assert not any(key.endswith(".2") for key in table)
    assert poll_table([9])["walks.2"] == "1.3.6.1.4.1.1206.4.2.1.1.4.1.7.2"
    custom = poll_table([1], {"unitControlStatus": "1.3.6.1.4.1.99.1.0", "shortAlarmStatus": None})
    assert custom["unitControlStatus"] == "1.3.6.1.4.1.99.1.0" and "shortAlarmStatus" not in custom


def test_options_are_checked() -> None:
    options = NtcipOptions.model_validate({"phases": [2, 4, 6, 8], "conflicts": [[2, 4], [6, 8]]})
    assert options.conflicts == [(2, 4), (6, 8)] and options.snmp_version == "2c"
    assert NtcipOptions().phases == list(range(1, 9))
    for bad in (
        {"conflicts": [[2, 2]]},
        {"phases": [2, 4], "conflicts": [[2, 6]]},
        {"phases": [2, 2]},
        {"phases": [0]},
        {"snmp_version": "3"},
        {"oids": {"unitControlStatus": "not.an.oid"}},
        {"oids": {"sysDescr": "1.3.6.1.2.1.1.1.0"}},
        {"community": "public", "comunity": "x"},
    ):
        with pytest.raises(ValidationError):
            NtcipOptions.model_validate(bad)
    with pytest.raises(ValidationError):
        TscMqttOptions.model_validate({"topic": "tsc/+/status"})
    with pytest.raises(ValidationError):
        TscMqttOptions.model_validate({"topic": "tsc/#"})


# --- the simulated intersection ----------------------------------------------------------------


def test_signal_plan_runs_the_vietnamese_cycle() -> None:
    controller = SignalController(random.Random(1), start_s=TEN_AM)
    seen: list[tuple[str, str]] = []
    for _ in range(2 * PLANS[1].cycle_s):
        snap = controller.snapshot()
        step = (snap.colours[2], snap.colours[4])
        if not seen or seen[-1] != step:
            seen.append(step)
        assert snap.colours[2] == snap.colours[6] and snap.colours[4] == snap.colours[8]
        assert snap.expected()["conflict"] is False and snap.expected()["plan"] == 1
        controller.advance(1.0)
    cycle = [
        ("green", "red"),
        ("yellow", "red"),
        ("red", "red"),
        ("red", "green"),
        ("red", "yellow"),
        ("red", "red"),
    ]
    assert seen == cycle + cycle
    # The morning peak plan takes over at the end of the cycle running at 06:30.
    controller = SignalController(random.Random(1), start_s=6 * 3600 + 29 * 60 + 50)
    assert controller.plan.number == 1
    for _ in range(PLANS[1].cycle_s):
        controller.advance(1.0)
    assert controller.plan.number == 2


# --- SNMP round trip through the Source ---------------------------------------------------------


def source_for(sim: NtcipSimulator, **options: Any) -> NtcipSource:
    opts = NtcipOptions.model_validate({**sim.options(), "timeout_s": 0.3, "retries": 1, **options})
    return NtcipSource(DeviceContext("bmt-tr01-tsc", sim.port, None, 0.02, opts, Path("/nonexistent")))


class Running:
    """A Source's run() in a thread, its samples collected."""

    def __init__(self, source: Any) -> None:
        self.source, self.samples, self.error = source, [], None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.source.run(self.samples.append, self.stop)
        except Exception as exc:
            self.error = exc

    def controller(self) -> list[Sample]:
        return [s for s in list(self.samples) if s.tags["signal_group"] == "controller"]

    def wait_for(self, condition: Callable[[], bool], within_s: float = 10.0) -> bool:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline and self.thread.is_alive():
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


@pytest.fixture
def snmp_sim() -> Iterator[NtcipSimulator]:
    # 100 simulated seconds per real one: the 80 s off-peak cycle takes 0.8 s.
    sim = NtcipSimulator(interval_s=0.02, time_scale=100, seed=7, start_s=TEN_AM)
    with sim:
        yield sim


def steps_of(samples: list[Sample]) -> list[tuple[str, str, str, str]]:
    """(state 2, 4, 6, 8) per poll, consecutive repeats folded."""
    steps: list[tuple[str, str, str, str]] = []
    for i in range(0, len(samples) - 4, 5):
        poll = states(samples[i : i + 5])
        step = (poll["2"], poll["4"], poll["6"], poll["8"])
        if not steps or steps[-1] != step:
            steps.append(step)
    return steps


@pytest.mark.timeout(20)
def test_snmp_polls_follow_the_signal_plan_and_see_a_conflict(snmp_sim: NtcipSimulator) -> None:
    run = Running(source_for(snmp_sim))
    try:
        cycle_steps = {
            ("green", "red", "green", "red"),
            ("yellow", "red", "yellow", "red"),
            ("red", "red", "red", "red"),
            ("red", "green", "red", "green"),
            ("red", "yellow", "red", "yellow"),
        }
        assert run.wait_for(lambda: cycle_steps <= set(steps_of(list(run.samples)))), steps_of(run.samples)
        clean = len(run.samples)
        snmp_sim.set_fault("conflict")
        assert run.wait_for(lambda: any(s.fields["conflict"] for s in run.controller()))
        snmp_sim.set_fault(None)
    finally:
        run.finish()
    assert run.error is None
    samples = list(run.samples)
    truth = [fields for _, fields in snmp_sim.emitted]
    # Every poll saw a state the controller really showed; before the fault, never a conflict.
    for sample in samples:
        if sample.tags["signal_group"] == "controller":
            assert sample.fields in truth
    assert not any(s.fields.get("conflict") for s in samples[:clean])
    conflict = next(s for s in run.controller() if s.fields["conflict"])
    assert conflict.fields == {
        "mode": "auto",
        "plan": 1,
        "fault": 1,
        "conflict": True,
        "conflict_groups": "2+4,4+6",
    }
    assert conflict.quality == "bad"
    assert_fits_dictionary(samples)
    # One timestamp per poll, shared by its five samples.
    assert len({s.time_ns for s in samples[:5]}) == 1 and samples[0].time_ns != samples[5].time_ns


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("flashing", {"mode": "flashing", "plan": 255, "fault": 8}),
        ("dark", {"mode": "dark", "fault": 16}),
        ("manual", {"mode": "manual", "fault": 0}),
        ("alarm", {"mode": "auto", "fault": 4}),
    ],
)
def test_snmp_faults_seen_through_the_source(
    snmp_sim: NtcipSimulator, fault: str, expected: dict[str, Any]
) -> None:
    snmp_sim.set_fault(fault)
    run = Running(source_for(snmp_sim, snmp_version="1"))  # v1 as well: older cabinets only speak it
    try:
        assert run.wait_for(lambda: any(expected.items() <= s.fields.items() for s in run.controller()))
    finally:
        run.finish()
    assert run.error is None
    if fault == "flashing":
        seen = next(i for i, s in enumerate(run.samples) if expected.items() <= s.fields.items())
        assert set(states(run.samples[seen - 4 : seen]).values()) == {"flashing"}


@pytest.mark.timeout(20)
def test_snmp_dropout_raises_naming_the_controller(snmp_sim: NtcipSimulator) -> None:
    run = Running(source_for(snmp_sim))
    assert run.wait_for(lambda: len(run.samples) >= 10)
    snmp_sim.set_fault("dropout")
    run.thread.join(timeout=10)
    assert isinstance(run.error, NtcipError)
    assert snmp_sim.port in str(run.error) and "bmt-tr01-tsc" in str(run.error)
    run.finish()


@pytest.mark.timeout(20)
def test_snmp_wrong_community_times_out_and_lost_datagrams_are_retried() -> None:
    with NtcipSimulator(interval_s=0.02, time_scale=100, seed=3, start_s=TEN_AM, noise=0.2) as sim:
        run = Running(source_for(sim, retries=6, timeout_s=0.1))
        try:
            assert run.wait_for(lambda: len(run.controller()) >= 20 and sim.noise_inserted > 0)
        finally:
            run.finish()
        assert run.error is None and sim.noise_inserted > 0
        wrong = Running(source_for(sim, community="private", retries=0, timeout_s=0.2))
        wrong.thread.join(timeout=5)
        assert isinstance(wrong.error, NtcipError) and sim.port in str(wrong.error)
        assert not wrong.samples


@pytest.mark.timeout(20)
def test_snmp_controller_without_optional_objects(snmp_sim: NtcipSimulator) -> None:
    # A controller firmware with the alarm object elsewhere: that object is dropped, polling goes on.
    for version in ("1", "2c"):
        source = source_for(
            snmp_sim, snmp_version=version, oids={"shortAlarmStatus": "1.3.6.1.4.1.1206.4.2.1.3.99.0"}
        )
        run = Running(source)
        try:
            assert run.wait_for(lambda run=run: len(run.controller()) >= 3)
        finally:
            run.finish()
        assert run.error is None
        assert source.dropped == {"unsupported_shortAlarmStatus": 1}
        assert "plan" in run.controller()[0].fields
    # A phase the controller does not have is a configuration error, named in the message.
    missing = Running(source_for(snmp_sim, phases=[2, 4, 6, 8, 10], conflicts=[]))
    missing.thread.join(timeout=5)
    assert isinstance(missing.error, NtcipError) and "reds.2" in str(missing.error)


# --- tsc-mqtt: JSON status over MQTT ------------------------------------------------------------


def status(**overrides: Any) -> bytes:
    payload = encode_status(
        time_ns=1_768_440_600_120_000_000,  # 2026-01-15 08:30:00.120 +07:00
        mode="auto",
        plan=3,
        groups={2: "green", 4: "red", 6: "green", 8: "red"},
        flags={"walk": [2, 6], "vehicle_call": [4]},
    )
    if not overrides:
        return payload
    return json.dumps({**json.loads(payload), **overrides}).encode()


def test_status_payload_decodes() -> None:
    assert status().startswith(
        b'{"ts":"2026-01-15T08:30:00.120+07:00","mode":"auto","plan":3,"groups":{"2":"green"'
    )
    decoder = TscStatusDecoder(MAIN_SIDE)
    samples = decoder.decode(status())
    assert states(samples) == {"2": "green", "4": "red", "6": "green", "8": "red"}
    groups = by_group(samples)
    assert groups["2"].fields["walk"] is True and groups["4"].fields["vehicle_call"] is True
    assert groups["controller"].fields == {
        "mode": "auto",
        "plan": 3,
        "fault": 0,
        "conflict": False,
        "conflict_groups": "",
    }
    assert all(s.time_ns == 1_768_440_600_120_000_000 for s in samples)
    assert decoder.decoded == 1 and not decoder.dropped
    assert_fits_dictionary(samples)


def test_status_payload_conflict_and_faults() -> None:
    decoder = TscStatusDecoder(MAIN_SIDE)
    conflict = by_group(decoder.decode(status(groups={"2": "green", "4": "yellow", "6": "red", "8": "red"})))
    assert conflict["controller"].fields["conflict_groups"] == "2+4"
    assert conflict["controller"].quality == "bad"
    flash = decoder.decode(
        status(mode="flashing", groups=dict.fromkeys("2468", "flashing"), faults=["fault_flash"])
    )
    assert by_group(flash)["controller"].fields["fault"] == 8 and set(states(flash).values()) == {"flashing"}
    vendor = by_group(decoder.decode(status(faults=["lamp_out_4R"])))  # a name we do not know: an alarm
    assert vendor["controller"].fields["fault"] == 4
    no_ts = decoder.decode(b'{"mode":"dark","groups":{"2":"dark"}}')
    assert by_group(no_ts)["controller"].fields == {
        "mode": "dark",
        "fault": 16,
        "conflict": False,
        "conflict_groups": "",
    }
    assert no_ts[0].time_ns is None  # the edge stamps it


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"mode":"auto","groups":{"2":"gre', "not_json"),
        (b"\xff\xfe\x00", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"mode":"AUTO","groups":{}}', "bad_mode"),
        (b'{"mode":"auto"}', "bad_groups"),
        (b'{"mode":"auto","groups":{"two":"red"}}', "bad_groups"),
        (b'{"mode":"auto","groups":{"2":"blue"}}', "bad_state"),
        (b'{"mode":"auto","plan":"3","groups":{}}', "bad_plan"),
        (b'{"mode":"auto","plan":true,"groups":{}}', "bad_plan"),
        (b'{"mode":"auto","plan":300,"groups":{}}', "bad_plan"),
        (b'{"ts":"2026-01-15T08:30:00","mode":"auto","groups":{}}', "bad_ts"),
        (b'{"ts":1768440600,"mode":"auto","groups":{}}', "bad_ts"),
        (b'{"mode":"auto","groups":{"2":"red"},"walk":{"2":"yes"}}', "bad_flags"),
        (b'{"mode":"auto","groups":{},"faults":"none"}', "bad_faults"),
        (b"[" * 100_000, "not_json"),
    ],
)
def test_malformed_payloads_are_counted_and_skipped(payload: bytes, reason: str) -> None:
    decoder = TscStatusDecoder(MAIN_SIDE)
    assert decoder.decode(payload) == []
    assert decoder.dropped == {reason: 1}
    assert decoder.decode(status()) != []  # and the next good one still decodes


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["ts", "mode", "plan", "groups", "walk", "ped_clear", "faults", "x"]), json_values
    ),
    st.binary(max_size=64),
)
def test_arbitrary_payloads_never_raise(doc: dict[str, Any], noise: bytes) -> None:
    decoder = TscStatusDecoder(MAIN_SIDE)
    for payload in (json.dumps(doc).encode(), noise):
        samples = decoder.decode(payload)
        if samples:
            assert_fits_dictionary(samples)
    assert decoder.decoded + sum(decoder.dropped.values()) == 2


@settings(max_examples=50)
@given(st.integers(0, 10_000), st.sampled_from([None, "conflict", "flashing", "dark", "manual", "alarm"]))
def test_simulator_payloads_decode_to_its_truth_and_its_garbage_never_does(
    choice: int, fault: str | None
) -> None:
    controller = SignalController(random.Random(choice), start_s=choice * 7)
    controller.fault = fault
    for _ in range(choice % 60):
        controller.advance(1.0)
    snap = controller.snapshot()
    decoder = TscStatusDecoder(CONFLICTS)
    payload = snapshot_payload(snap, 1_768_440_600_000_000_000)
    assert decoder.decode(payload)[-1].fields == snap.expected()
    assert decoder.decode(malformed(payload, choice)) == []


@pytest.fixture
def mqtt_sim(broker: Mosquitto) -> Iterator[TscMqttSimulator]:
    topic = f"tsc/t{time.monotonic_ns()}/status"
    sim = TscMqttSimulator(
        interval_s=0.02,
        time_scale=100,
        seed=5,
        start_s=TEN_AM,
        broker=(broker.host, broker.port),
        topic=topic,
    )
    yield sim
    sim.stop()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("configured_by", ["port", "options"])
def test_mqtt_status_through_the_broker(
    mqtt_sim: TscMqttSimulator, broker: Mosquitto, configured_by: str
) -> None:
    if configured_by == "port":  # as the demo does: the simulator's port as the device's port:
        ctx = mqtt_ctx(mqtt_sim.port, conflicts=mqtt_sim.options()["conflicts"])
    else:
        ctx = mqtt_ctx(None, **mqtt_sim.options())
    source = TscMqttSource(ctx)
    run = Running(source)
    try:
        assert source.subscribed.wait(5)
        mqtt_sim.noise = 0.2
        mqtt_sim.start()
        assert run.wait_for(lambda: len(run.controller()) >= 30)
        # A controller that sends something else entirely, straight to the topic.
        publish.single(mqtt_sim.topic, b"{not json", qos=1, hostname=broker.host, port=broker.port)
        mqtt_sim.set_fault("conflict")
        assert run.wait_for(lambda: any(s.fields["conflict"] for s in run.controller()))
        mqtt_sim.stop()
        n = len(mqtt_sim.emitted)
        assert run.wait_for(lambda: len(run.controller()) >= n)
    finally:
        run.finish()
    assert run.error is None
    received = [(s.time_ns, s.fields) for s in run.controller()]
    assert received == mqtt_sim.emitted  # QoS 1 on a subscribed topic: nothing lost, nothing extra
    assert mqtt_sim.noise_inserted > 0
    assert sum(source.dropped.values()) == mqtt_sim.noise_inserted + 1
    assert source.dropped["not_json"] >= 1
    assert_fits_dictionary(list(run.samples))


def mqtt_ctx(device_port: str | None, **options: Any) -> DeviceContext:
    return DeviceContext(
        "bmt-tr01-tsc", device_port, None, 1.0, TscMqttOptions(**options), Path("/nonexistent")
    )


def test_mqtt_broker_and_topic_from_port_or_options() -> None:
    source = TscMqttSource(mqtt_ctx(None, host="10.0.0.2", port=1884, topic="tsc/a/status"))
    assert (source.host, source.port, source.topic) == ("10.0.0.2", 1884, "tsc/a/status")
    source = TscMqttSource(mqtt_ctx("127.0.0.1:1883/tsc/b/status", topic="tsc/a/status"))
    assert (source.host, source.port, source.topic) == ("127.0.0.1", 1883, "tsc/b/status")  # port: wins
    source = TscMqttSource(mqtt_ctx("[::1]:1883", topic="tsc/a/status"))
    assert (source.host, source.port, source.topic) == ("::1", 1883, "tsc/a/status")
    for port in ("127.0.0.1", "127.0.0.1:x/tsc", "127.0.0.1:1883/tsc/+/status"):
        with pytest.raises(ValueError, match=r"tsc-mqtt port|topic"):
            TscMqttSource(mqtt_ctx(port, topic="tsc/a/status"))
    with pytest.raises(ValueError, match="no status topic"):
        TscMqttSource(mqtt_ctx("127.0.0.1:1883"))


@pytest.mark.timeout(20)
def test_mqtt_source_without_broker_raises() -> None:
    source = TscMqttSource(mqtt_ctx("127.0.0.1:1/tsc/x/status"))
    with pytest.raises(ConnectionError, match=r"bmt-tr01-tsc: cannot reach MQTT broker 127\.0\.0\.1:1"):
        source.run(lambda _: None, threading.Event())


# --- registry and sample configs -----------------------------------------------------------------


def test_registry_has_both_families() -> None:
    assert registry.get("ntcip1202") is NTCIP_FAMILY
    assert registry.get("tsc-mqtt") is TSC_MQTT_FAMILY
    assert NTCIP_FAMILY.transport == "snmp" and TSC_MQTT_FAMILY.transport == "mqtt"
    assert NTCIP_FAMILY.options is NtcipOptions and TSC_MQTT_FAMILY.options is TscMqttOptions
    sim = NTCIP_FAMILY.new_simulator(interval_s=0.5, seed=1)
    try:
        assert isinstance(sim, registry.Simulator)
        assert sim.port.startswith("127.0.0.1:")
        with pytest.raises(ValueError, match="unknown fault"):
            sim.set_fault("smoke")
    finally:
        sim.stop()
    assert set(NtcipSimulator.FAULTS) == {"conflict", "flashing", "dark", "dropout", "manual", "alarm"}
    assert set(TscMqttSimulator.FAULTS) == {*NtcipSimulator.FAULTS, "garbage"}
    assert SCALARS["unitControlStatus"].startswith("1.3.6.1.4.1.1206.4.2.1.3.")


@pytest.mark.parametrize("name", ["sample.yaml", "sample_tsc_mqtt.yaml"])
def test_sample_configs_validate(name: str) -> None:
    text = resources.files("firmware_bridge.ntcip").joinpath(name).read_text(encoding="utf-8")
    device = Device.model_validate(yaml.safe_load(text))
    family = registry.get(device.family)
    assert family.options is not None
    options = family.options.model_validate(device.options)
    if family is NTCIP_FAMILY:
        assert device.port and options.conflicts == MAIN_SIDE
    else:
        assert device.port is None and options.topic
