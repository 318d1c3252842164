"""Weigh-station processor (live weights → one weighing per vehicle), its hash-chain journal and
the verifier. Samples are fed directly, as the scale-indicator families would hand them over."""

from __future__ import annotations

import json
import math
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from firmware_bridge.registry import DeviceContext, Sample
from firmware_bridge.weighing import (
    GENESIS,
    JOURNAL_NAME,
    Journal,
    WeighingOptions,
    WeighingProcessor,
    new_weighing_processor,
    record_hash,
    verify_chain,
    verify_records,
)
from firmware_bridge.weighing.cli import weighing_app
from ioc.measurements import check_reading
from ioc.reading import Reading

T0 = 1_750_000_000 * 10**9
TICK_NS = 100_000_000  # 10 samples a second, what a continuous-output indicator sends


def context(state_dir: Path, device: str = "ql14-scale", **options: Any) -> DeviceContext:
    return DeviceContext(
        device_id=device,
        port=None,
        baudrate=None,
        poll_interval_s=1.0,
        options=WeighingOptions(**{"permitted_gross_kg": 30_000, **options}),
        state_dir=state_dir,
    )


class Script:
    """A stream of scale samples at 10 Hz, as an indicator reports a truck passing over it."""

    def __init__(self, *, flag: bool = True, noise_kg: float = 0.0, seed: int = 0, t0: int = T0) -> None:
        self.flag, self.noise, self.rng = flag, noise_kg, random.Random(seed)
        self.t = t0
        self.samples: list[Sample] = []
        self.marks: dict[str, int] = {}  # name → index of the next sample

    def mark(self, name: str) -> Script:
        self.marks[name] = len(self.samples)
        return self

    def _emit(self, kg: float, stable: bool, overload: bool = False) -> None:
        weight = round(kg + (self.rng.uniform(-self.noise, self.noise) if self.noise else 0.0), 1)
        fields: dict[str, Any] = {"weight_kg": weight}
        if self.flag:
            fields["stable"] = stable
        if overload:
            fields["overload"] = True
        self.samples.append(Sample(fields=fields, time_ns=self.t))
        self.t += TICK_NS

    def hold(self, kg: float, seconds: float, stable_after_s: float = 0.5) -> Script:
        for i in range(round(seconds * 10)):
            self._emit(kg, stable=i >= stable_after_s * 10)
        return self

    def ramp(self, start: float, end: float, seconds: float) -> Script:
        n = round(seconds * 10)
        for i in range(1, n + 1):
            self._emit(start + (end - start) * i / n, stable=False)
        return self

    def wobble(self, kg: float, amplitude: float, seconds: float) -> Script:
        # A truck braking and rocking on its springs: never within a stable band.
        for i in range(round(seconds * 10)):
            self._emit(kg + amplitude * math.sin(i * 2.2), stable=False)
        return self

    def overload(self, kg: float, seconds: float) -> Script:
        for _ in range(round(seconds * 10)):
            self._emit(kg, stable=False, overload=True)
        return self

    def truck(self, gross: float, hold_s: float = 4.0) -> Script:
        return (
            self.hold(0, 1.0)
            .ramp(0, gross, 3.0)
            .wobble(gross, 300, 1.5)
            .mark("stable")
            .hold(gross, hold_s)
            .mark("leave")
            .ramp(gross, 0, 2.0)
            .hold(0, 1.0)
        )


def run(processor: WeighingProcessor, samples: list[Sample]) -> tuple[list[Sample], list[tuple[int, Sample]]]:
    """Everything the processor returned, and the weighings with the index of the input that made them."""
    out: list[Sample] = []
    weighings: list[tuple[int, Sample]] = []
    for index, sample in enumerate(samples):
        result = processor(sample)
        assert result[0] is sample  # the live weight passes through untouched, always first
        out += result
        weighings += [(index, s) for s in result[1:]]
    return out, weighings


def only_weighings(processor: WeighingProcessor, samples: list[Sample]) -> list[Sample]:
    return [s for _, s in run(processor, samples)[1]]


def journal_lines(state_dir: Path) -> list[str]:
    return (state_dir / JOURNAL_NAME).read_text().splitlines()


# --- processor ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", [True, False], ids=["stable-flag", "no-flag"])
def test_one_truck_one_weighing_at_stability(tmp_path: Path, flag: bool) -> None:
    script = Script(flag=flag, noise_kg=0 if flag else 10, seed=1).truck(32_000)
    processor = new_weighing_processor(context(tmp_path))
    out, weighings = run(processor, script.samples)

    assert len(out) == len(script.samples) + 1
    [(index, weighing)] = weighings
    # Emitted while the truck still stands on the scale, not when it leaves.
    assert script.marks["stable"] <= index < script.marks["leave"]
    if not flag:  # the weight must have stayed in the band for stable_s = 2 s of sample time
        assert weighing.time_ns - script.samples[script.marks["stable"]].time_ns >= 2 * 10**9
    assert weighing.measurement == "weighing"
    assert weighing.quality == "good"
    assert weighing.time_ns == script.samples[index].time_ns
    fields = weighing.fields
    assert abs(fields["gross_kg"] - 32_000) <= (0 if flag else 10)
    assert fields["permitted_kg"] == 30_000.0
    assert fields["stable"] is True
    assert fields["overload"] is True
    assert fields["overload_pct"] == round((fields["gross_kg"] / 30_000 - 1) * 100, 1)
    assert fields["sequence"] == 1
    assert fields["prev_hash"] == GENESIS
    assert len(fields["record_hash"]) == 64
    assert processor.counts["weighings"] == 1
    reading = Reading("weighing", {"city": "c", "site": "s", "gateway": "g", "device": "d"}, fields, 1)
    assert check_reading(reading) is None  # every field is in the measurement dictionary


def test_exact_overload_figures_and_tolerance(tmp_path: Path) -> None:
    stations = iter(range(100))

    def weigh(gross: float, **options: Any) -> dict[str, Any]:
        state = tmp_path / f"station{next(stations)}"
        [weighing] = only_weighings(
            new_weighing_processor(context(state, **options)), Script().truck(gross).samples
        )
        return weighing.fields

    assert weigh(32_000) | {"record_hash": "", "prev_hash": ""} == {
        "gross_kg": 32_000.0,
        "permitted_kg": 30_000.0,
        "stable": True,
        "overload": True,
        "overload_pct": 6.7,  # (32 000 / 30 000 − 1) × 100 = 6.666…
        "sequence": 1,
        "record_hash": "",
        "prev_hash": "",
    }
    # Within a 10 % tolerance: not an overload, but the excess is still reported.
    assert weigh(32_000, tolerance_pct=10)["overload"] is False
    assert weigh(32_000, tolerance_pct=10)["overload_pct"] == 6.7
    assert weigh(33_010, tolerance_pct=10)["overload"] is True
    under = weigh(24_000)
    assert (under["overload"], under["overload_pct"]) == (False, 0.0)


def test_two_trucks_back_to_back_chain(tmp_path: Path) -> None:
    processor = new_weighing_processor(context(tmp_path))
    first, second = only_weighings(processor, Script().truck(18_000).truck(41_250).samples)
    assert [first.fields["sequence"], second.fields["sequence"]] == [1, 2]
    assert [first.fields["gross_kg"], second.fields["gross_kg"]] == [18_000.0, 41_250.0]
    assert second.fields["prev_hash"] == first.fields["record_hash"]
    assert verify_chain(tmp_path / JOURNAL_NAME).count == 2


def test_next_vehicle_without_the_scale_going_empty(tmp_path: Path) -> None:
    # One truck rolls off as the next rolls on; the scale never gets below the zero band.
    script = Script().hold(0, 1).ramp(0, 25_000, 3).hold(25_000, 3)
    script.ramp(25_000, 9_000, 2).ramp(9_000, 38_000, 3).wobble(38_000, 300, 1).hold(38_000, 3)
    processor = new_weighing_processor(context(tmp_path))
    weighings = only_weighings(processor, script.ramp(38_000, 0, 2).hold(0, 1).samples)
    assert [w.fields["gross_kg"] for w in weighings] == [25_000.0, 38_000.0]
    assert processor.counts["new_vehicle_without_zero"] == 1


@pytest.mark.parametrize("flag", [True, False], ids=["stable-flag", "no-flag"])
def test_truck_that_never_stabilises_is_counted_not_weighed(tmp_path: Path, flag: bool) -> None:
    script = Script(flag=flag).hold(0, 1).ramp(0, 28_000, 3).wobble(28_000, 400, 6).ramp(28_000, 0, 2)
    script.hold(0, 1).truck(12_000)
    processor = new_weighing_processor(context(tmp_path))
    [weighing] = only_weighings(processor, script.samples)
    assert weighing.fields["gross_kg"] == 12_000.0
    assert weighing.fields["sequence"] == 1
    assert processor.counts["unstable_passes"] == 1


@pytest.mark.parametrize("flag", [True, False], ids=["stable-flag", "no-flag"])
def test_repositioning_is_the_same_vehicle(tmp_path: Path, flag: bool) -> None:
    # Recorded, then the driver backs half off the platform and pulls on again, settling 60 kg
    # heavier (the load shifted): same truck, no second weighing.
    script = Script(flag=flag).hold(0, 1).ramp(0, 30_000, 3).hold(30_000, 3)
    script.ramp(30_000, 14_000, 2).wobble(14_000, 200, 1).ramp(14_000, 30_060, 2).hold(30_060, 4)
    script.ramp(30_060, 0, 2).hold(0, 1)
    processor = new_weighing_processor(context(tmp_path))
    [weighing] = only_weighings(processor, script.samples)
    assert weighing.fields["gross_kg"] == 30_000.0
    assert processor.counts["unstable_passes"] == 0


def test_net_weight_is_made_gross(tmp_path: Path) -> None:
    samples = [
        Sample(
            fields={"weight_kg": s.fields["weight_kg"] - 500, "net": True, "tare_kg": 500.0},
            time_ns=s.time_ns,
        )
        for s in Script(flag=False).truck(12_000).samples
    ]
    [weighing] = only_weighings(new_weighing_processor(context(tmp_path)), samples)
    assert weighing.fields["gross_kg"] == 12_000.0


def test_light_load_between_the_thresholds_is_not_a_vehicle(tmp_path: Path) -> None:
    # A motorbike (or a person) at 300 kg: above the zero band, below min_vehicle_kg.
    script = Script().hold(0, 1).ramp(0, 300, 1).hold(300, 4).ramp(300, 0, 1).hold(0, 1)
    processor = new_weighing_processor(context(tmp_path))
    assert only_weighings(processor, script.samples) == []
    assert processor.counts["unstable_passes"] == 0


def test_indicator_overload_gives_one_bad_weighing(tmp_path: Path) -> None:
    script = (
        Script().hold(0, 1).ramp(0, 58_000, 3).mark("ol").overload(60_000, 3).ramp(60_000, 0, 2).hold(0, 1)
    )
    processor = new_weighing_processor(context(tmp_path))
    _, weighings = run(processor, script.truck(20_000).samples)
    (index, bad), (_, good) = weighings
    assert index == script.marks["ol"]  # at once, and once only while the indicator stays over range
    assert bad.quality == "bad"
    assert bad.fields["stable"] is False
    assert bad.fields["gross_kg"] == 60_000.0  # a lower bound: the indicator can show no more
    assert bad.fields["overload"] is True
    assert good.quality == "good"
    assert good.fields["prev_hash"] == bad.fields["record_hash"]
    assert processor.counts["bad_weighings"] == 1
    assert verify_chain(tmp_path / JOURNAL_NAME).ok


def test_indicator_overload_that_shows_no_weight(tmp_path: Path) -> None:
    # Some indicators send zeros (or "-OL") while over range: the highest weight seen stands in, and
    # an over-range flag on an empty deck is an indicator fault, not a vehicle.
    script = (
        Script().overload(0, 1).hold(0, 1).ramp(0, 52_000, 3).overload(0, 2).ramp(52_000, 0, 1).hold(0, 1)
    )
    processor = new_weighing_processor(context(tmp_path))
    [bad] = only_weighings(processor, script.samples)
    assert (bad.quality, bad.fields["gross_kg"]) == ("bad", 52_000.0)
    assert processor.counts["overload_on_empty_scale"] == 10


def test_time_comes_from_the_clock_when_samples_have_none(tmp_path: Path) -> None:
    ticks = iter(range(T0, T0 + 10**12, TICK_NS))
    processor = WeighingProcessor(context(tmp_path), clock=lambda: next(ticks))
    samples = [Sample(fields=dict(s.fields)) for s in Script(flag=False).truck(15_000).samples]
    _, [(index, weighing)] = run(processor, samples)
    assert weighing.time_ns == T0 + index * TICK_NS


def test_journal_failure_emits_nothing_and_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processor = new_weighing_processor(context(tmp_path))
    real_append, failures = processor.journal.append, iter([OSError(28, "No space left on device")])

    def append(content: dict[str, Any]) -> dict[str, Any]:
        failure = next(failures, None)
        if failure:
            raise failure
        return real_append(content)

    monkeypatch.setattr(processor.journal, "append", append)
    _, [(_, weighing)] = run(processor, Script().truck(21_000).samples)
    assert processor.counts["journal_errors"] == 1
    assert weighing.fields["sequence"] == 1
    assert len(journal_lines(tmp_path)) == 1


def test_samples_that_are_not_weights_pass_through(tmp_path: Path) -> None:
    processor = new_weighing_processor(context(tmp_path))
    odd = [
        Sample(fields={"weight_kg": float("nan")}),
        Sample(fields={"tare_kg": 10.0}),
        Sample(fields={"weight_kg": 40_000.0}, quality="bad"),
        Sample(fields={"pm25": 3.0}, measurement="air_quality"),
    ]
    for sample in odd:
        assert processor(sample) == [sample]
    assert processor.counts["ignored_samples"] == 4


# --- restarts and the journal ----------------------------------------------------------------


def test_restart_continues_the_chain_and_replays_the_last_weighing(tmp_path: Path) -> None:
    [first] = only_weighings(new_weighing_processor(context(tmp_path)), Script().truck(22_000).samples)

    restarted = new_weighing_processor(context(tmp_path))
    later = Script(t0=T0 + 3600 * 10**9).truck(27_500).samples
    out = restarted(later[0])
    # Re-sent once: had the edge died between the fsync and its buffer, InfluxDB would miss it.
    assert out[1] == first
    [second] = only_weighings(restarted, later[1:])
    assert second.fields["sequence"] == 2
    assert second.fields["prev_hash"] == first.fields["record_hash"]
    result = verify_chain(tmp_path / JOURNAL_NAME)
    assert (result.ok, result.count, result.last_hash) == (True, 2, second.fields["record_hash"])


def test_restart_with_the_weighed_truck_still_on_the_scale(tmp_path: Path) -> None:
    script = Script().hold(0, 1).ramp(0, 35_000, 3).hold(35_000, 3)
    [_] = only_weighings(new_weighing_processor(context(tmp_path)), script.samples)
    restarted = new_weighing_processor(context(tmp_path))
    rest = Script(t0=script.t + 5 * 10**9).hold(35_010, 3).ramp(35_010, 0, 2).hold(0, 1).truck(9_000)
    _, weighings = run(restarted, rest.samples)
    assert [(w.fields["sequence"], w.fields["gross_kg"]) for _, w in weighings] == [
        (1, 35_000.0),  # the replay of the last record at start-up
        (2, 9_000.0),  # the next truck; the one standing there was not weighed twice
    ]
    assert restarted.counts["resumed_vehicle"] == 1


def test_two_processors_on_one_journal_extend_one_chain(tmp_path: Path) -> None:
    a, b = new_weighing_processor(context(tmp_path)), new_weighing_processor(context(tmp_path))
    weights = [11_000, 12_000, 13_000, 14_000]
    script = Script()
    for weight in weights:
        script.truck(weight)
    per_truck = len(script.samples) // len(weights)
    for n in range(len(weights)):
        only_weighings(a if n % 2 == 0 else b, script.samples[n * per_truck : (n + 1) * per_truck])
    assert [json.loads(line)["sequence"] for line in journal_lines(tmp_path)] == [1, 2, 3, 4]
    assert verify_chain(tmp_path / JOURNAL_NAME).count == 4


def test_torn_last_line_is_set_aside_and_the_chain_goes_on(tmp_path: Path) -> None:
    only_weighings(new_weighing_processor(context(tmp_path)), Script().truck(16_000).truck(17_000).samples)
    path = tmp_path / JOURNAL_NAME
    whole = path.read_bytes()
    torn = b'{"device":"ql14-scale","sequence":3,"time_ns":17500000'
    path.write_bytes(whole + torn)
    assert verify_chain(path).reason == "torn_line"

    restarted = new_weighing_processor(context(tmp_path))
    assert [t.data for t in restarted.journal.recovered] == [torn]
    assert path.read_bytes() == whole
    [kept] = [json.loads(line) for line in (tmp_path / f"{JOURNAL_NAME}.corrupt").read_text().splitlines()]
    assert kept["text"] == torn.decode()
    assert kept["journal_offset"] == len(whole)
    weighings = only_weighings(restarted, Script(t0=T0 + 10**12).truck(18_000).samples)
    assert weighings[-1].fields["sequence"] == 3
    assert verify_chain(path).count == 3


def test_a_whole_record_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    only_weighings(new_weighing_processor(context(tmp_path)), Script().truck(16_000).samples)
    path = tmp_path / JOURNAL_NAME
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    restarted = new_weighing_processor(context(tmp_path))
    assert restarted.journal.recovered == []
    assert restarted.journal.last is not None and restarted.journal.last["sequence"] == 1
    assert path.read_bytes().endswith(b"}\n")


# --- verification ------------------------------------------------------------------------------


def five_records(tmp_path: Path) -> Path:
    journal = Journal(tmp_path / JOURNAL_NAME)
    for n in range(5):
        gross = 20_000.0 + 1_000 * n
        journal.append(
            {
                "device": "ql1a-scale",
                "time_ns": T0 + n * 60 * 10**9,
                "gross_kg": gross,
                "permitted_kg": 24_000.0,
                "overload": gross > 24_000,
                "overload_pct": round(max(0.0, (gross / 24_000 - 1) * 100), 1),
                "stable": True,
                "quality": "good",
            }
        )
    return journal.path


def rewrite(path: Path, change: Any) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def test_intact_chain_verifies(tmp_path: Path) -> None:
    path = five_records(tmp_path)
    result = verify_chain(path)
    assert (result.ok, result.count, result.last_sequence) == (True, 5, 5)
    assert result.last_hash == json.loads(path.read_text().splitlines()[-1])["record_hash"]
    assert verify_chain(Journal(tmp_path / "empty" / JOURNAL_NAME).path).ok


def test_first_record_hash_by_hand(tmp_path: Path) -> None:
    import hashlib

    first = json.loads(five_records(tmp_path).read_text().splitlines()[0])
    canonical = (
        '{"device":"ql1a-scale","gross_kg":20000.0,"overload":false,"overload_pct":0.0,'
        f'"permitted_kg":24000.0,"quality":"good","sequence":1,"stable":true,"time_ns":{T0}}}'
    )
    expected = hashlib.sha256(("0" * 64 + canonical).encode()).hexdigest()
    assert first["record_hash"] == expected == record_hash(GENESIS, first)


def test_verify_detects_a_modified_weight(tmp_path: Path) -> None:
    path = five_records(tmp_path)

    def lighter(lines: list[str]) -> list[str]:
        record = json.loads(lines[2])
        record["gross_kg"] = 21_500.0
        return [*lines[:2], json.dumps(record) + "\n", *lines[3:]]

    rewrite(path, lighter)
    result = verify_chain(path)
    assert (result.ok, result.line, result.sequence, result.reason) == (False, 3, 3, "hash_mismatch")
    assert result.count == 2


def test_verify_detects_a_modified_weight_with_its_hash_recomputed(tmp_path: Path) -> None:
    path = five_records(tmp_path)

    def forged(lines: list[str]) -> list[str]:
        record = json.loads(lines[2])
        record["gross_kg"] = 21_500.0
        record["record_hash"] = record_hash(record["prev_hash"], record)
        return [*lines[:2], json.dumps(record) + "\n", *lines[3:]]

    rewrite(path, forged)
    result = verify_chain(path)
    assert (result.line, result.sequence, result.reason) == (4, 4, "broken_link")


def test_verify_detects_a_deleted_record(tmp_path: Path) -> None:
    path = five_records(tmp_path)
    rewrite(path, lambda lines: lines[:2] + lines[3:])
    result = verify_chain(path)
    assert (result.ok, result.line, result.sequence, result.reason) == (False, 3, 4, "sequence_gap")
    rewrite(path, lambda lines: lines[1:])
    assert (verify_chain(path).line, verify_chain(path).reason) == (1, "sequence_gap")


def test_verify_detects_a_reordered_record(tmp_path: Path) -> None:
    path = five_records(tmp_path)
    rewrite(path, lambda lines: [*lines[:2], lines[3], lines[2], lines[4]])
    result = verify_chain(path)
    assert (result.ok, result.line, result.sequence) == (False, 3, 4)
    assert result.reason == "sequence_gap"


def test_verify_detects_a_torn_last_line_and_garbage(tmp_path: Path) -> None:
    path = five_records(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])
    result = verify_chain(path)
    assert (result.ok, result.line, result.reason, result.count) == (False, 5, "torn_line", 4)
    path.write_text(text.replace("\n", "\n\x00\x00\n", 1))
    assert (verify_chain(path).line, verify_chain(path).reason) == (2, "unparseable")


def influx_rows(path: Path) -> list[dict[str, Any]]:
    """The records as InfluxDB 1.x returns them: RFC 3339 time, the device as a tag, 24000.0 as 24000."""
    rows = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        seconds, ns = divmod(record.pop("time_ns"), 10**9)
        stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        record["time"] = f"{stamp}.{ns:09d}".rstrip("0").rstrip(".") + "Z"
        rows.append({k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in record.items()})
    return rows


def test_verify_records_as_read_back_from_influxdb(tmp_path: Path) -> None:
    rows = influx_rows(five_records(tmp_path))
    assert isinstance(rows[0]["gross_kg"], int) and rows[0]["time"].endswith("Z")
    assert verify_records(rows).count == 5
    window = verify_records(rows[2:], from_genesis=False)  # a time-range query starting mid-chain
    assert (window.ok, window.count) == (True, 3)
    assert verify_records(rows[2:]).reason == "sequence_gap"
    rows[1]["overload"] = True
    result = verify_records(rows)
    assert (result.line, result.sequence, result.reason) == (2, 2, "hash_mismatch")
    del rows[1]["quality"]
    assert verify_records(rows).reason == "bad_record"


def test_cli_exit_codes(tmp_path: Path) -> None:
    path = five_records(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(weighing_app, ["verify", str(tmp_path)])  # the state folder works too
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "5 weighings" in ok.output
    rewrite(path, lambda lines: lines[:1] + lines[2:])
    broken = runner.invoke(weighing_app, ["verify", str(path)])
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output and "line 2" in broken.output and "sequence_gap" in broken.output
    assert runner.invoke(weighing_app, ["verify", str(tmp_path / "missing.jsonl")]).exit_code == 2


# --- options -----------------------------------------------------------------------------------


def test_options_validation() -> None:
    assert WeighingOptions(permitted_gross_kg=34_000).min_vehicle_kg == 500
    with pytest.raises(ValidationError, match="permitted_gross_kg"):
        WeighingOptions()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="zero_band_kg"):
        WeighingOptions(permitted_gross_kg=30_000, zero_band_kg=600)
    with pytest.raises(ValidationError, match="extra"):
        WeighingOptions(permitted_gross_kg=30_000, axles=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        WeighingOptions(permitted_gross_kg=30_000, tolerance_pct=60)


def test_options_as_a_raw_dict(tmp_path: Path) -> None:
    ctx = DeviceContext("s", None, None, 1.0, {"permitted_gross_kg": 10_000, "stable_s": 1.0}, tmp_path)
    assert new_weighing_processor(ctx).options.stable_s == 1.0


# --- property: random traffic ------------------------------------------------------------------

truck_profiles = st.lists(
    st.fixed_dictionaries(
        {
            "gross": st.integers(2_000, 50_000),
            "ramp_s": st.sampled_from([1.0, 2.0, 3.0, 4.0]),
            "motion_s": st.sampled_from([0.0, 0.5, 1.5, 3.0]),
            "stable_s": st.floats(2.5, 5.0),  # ≥ stable_s (2 s) + a margin for the ramp's edge
            "reposition": st.floats(0.3, 0.7) | st.none(),
            "stabilises": st.booleans(),
        }
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles=truck_profiles, flag=st.booleans(), seed=st.integers(0, 2**16))
def test_random_traffic_one_weighing_per_truck(profiles: list[dict[str, Any]], flag: bool, seed: int) -> None:
    script = Script(flag=flag, noise_kg=10, seed=seed)
    for p in profiles:
        gross = p["gross"]
        script.hold(0, 1).ramp(0, gross, p["ramp_s"])
        script.wobble(gross, min(800, gross * 0.3), p["motion_s"])
        if not p["stabilises"]:
            script.wobble(gross, min(800, gross * 0.3), 3)
        else:
            script.hold(gross, p["stable_s"])
            if p["reposition"] is not None:
                low = gross * p["reposition"]
                script.ramp(gross, low, 1).ramp(low, gross, 1).hold(gross, p["stable_s"])
        script.ramp(gross, 0, p["ramp_s"]).hold(0, 1)

    with tempfile.TemporaryDirectory() as state:
        processor = new_weighing_processor(context(Path(state)))
        weighings = only_weighings(processor, script.samples)
        assert verify_chain(Path(state) / JOURNAL_NAME).count == len(weighings)

    expected = [p["gross"] for p in profiles if p["stabilises"]]
    assert len(weighings) == len(expected)
    assert processor.counts["unstable_passes"] == len(profiles) - len(expected)
    for weighing, gross in zip(weighings, expected, strict=True):
        assert abs(weighing.fields["gross_kg"] - gross) <= 10
        assert weighing.fields["overload"] is (weighing.fields["gross_kg"] > 30_000)
    assert [w.fields["sequence"] for w in weighings] == list(range(1, len(expected) + 1))
