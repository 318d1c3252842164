"""Station files (tt10): parser, folder-watching Source with its ledger, simulator, registration."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext, Sample
from firmware_bridge.tt10 import FAMILY, FAULTS, Tt10Options, Tt10Simulator, Tt10Source, parse_file
from firmware_bridge.tt10.parser import MAX_FILE_BYTES, MAX_LINES
from ioc.measurements import dictionary

NAME = "LS_KCN_NUOC01_20260115083000.txt"
# 2026-01-15 08:30:00 in Hà Nội (UTC+7, no DST) is 01:30:00 UTC.
T0 = int(datetime(2026, 1, 15, 1, 30, tzinfo=UTC).timestamp()) * 10**9
NOW = T0 + 600 * 10**9  # the gateway clock in parser tests: ten minutes after the file


def parse(text: str | bytes, name: str = NAME, **options: Any) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_file(name, data, Tt10Options(**options) if options else None, now=NOW)


def merged(samples: list[Sample]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sample in samples:
        out |= sample.fields
    return out


# --- parser: accepted variants ----------------------------------------------------------------------


def test_canonical_file() -> None:
    result = parse(
        "pH 7.25 pH 20260115083000 00\n"
        "Temp 27.4 °C 20260115083000 00\n"
        "DO 5.1 mg/L 20260115083000 00\n"
        "COD 14 mg/L 20260115083000 00\n"
        "TSS 40 mg/L 20260115083000 00\n"
    )
    assert result.rejects == []
    assert result.samples == [
        Sample(
            {"pH": 7.25, "temperature": 27.4, "dissolvedOxygen": 5.1, "cod": 14.0, "tss": 40.0},
            measurement="water_quality",
            time_ns=T0,
            quality="good",
        )
    ]
    assert result.name is not None
    assert (result.name.province, result.name.facility, result.name.station) == ("LS", "KCN", "NUOC01")
    assert result.name.time_ns == T0


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ("pH\t7.25\tpH\t20260115083000\t00", {"pH": 7.25}),  # tabs
        ("pH    7.25   pH  20260115083000     00", {"pH": 7.25}),  # several spaces
        ("20260115083000 pH 7.25 pH 00", {"pH": 7.25}),  # datetime first
        ("2026-01-15 08:30:00 pH 7.25 pH 00", {"pH": 7.25}),  # two-token datetime first
        ("pH 7,25 pH 20260115083000 00", {"pH": 7.25}),  # comma decimal separator
        ("pH 7.25 pH 2026-01-15 08:30:00 00", {"pH": 7.25}),  # two-token datetime
        ("pH 7.25 pH 2026/01/15 08:30:00 00", {"pH": 7.25}),
        ("pH 7.25 pH 15/01/2026 08:30:00 00", {"pH": 7.25}),  # Vietnamese day-first date
        ("pH 7.25 pH 2026-01-15T08:30:00 00", {"pH": 7.25}),
        ("pH 7.25 pH 202601150830 00", {"pH": 7.25}),  # no seconds
        ("PH 7.25 pH 20260115083000 00", {"pH": 7.25}),  # upper case
        ("ph 7.25 20260115083000 00", {"pH": 7.25}),  # lower case, unit missing
        ("TEMP 27.4 oC 20260115083000 00", {"temperature": 27.4}),
        ("Nhiet_do 27.4 °C 20260115083000 00", {"temperature": 27.4}),
        ("Nhiệt độ 27.4 độ C 20260115083000 00", {"temperature": 27.4}),  # multi-word name and unit
        ("temperature 27.4 20260115083000 00", {"temperature": 27.4}),  # a dictionary field name
        ("Độ đục 12,5 NTU 20260115083000 00", {"turbidity": 12.5}),
        ("Lưu lượng 120 m3/h 20260115083000 00", {"flow": 120.0}),
        ("Flow 10 L/s 20260115083000 00", {"flow": 36.0}),  # L/s x 3.6
        ("N-NH4 0.45 mg/l 20260115083000 00", {"nh4": 0.45}),
        ("Amoni 0.45 mg/L 20260115083000 00", {"nh4": 0.45}),
        ("NH4+ 0.45 mg/L 20260115083000 00", {"nh4": 0.45}),
        ("EC 1.25 mS/cm 20260115083000 00", {"conductivity": 1250.0}),  # mS/cm x 1000
        ("Conductivity 250 µS/cm 20260115083000 00", {"conductivity": 250.0}),
        ("BOD5 6 mg/L 20260115083000 00", {"bod5": 6.0}),
        ("TOC 3.5 mg/L 20260115083000 00", {"toc": 3.5}),
        ("P-PO4 0.12 mg/L 20260115083000 00", {"po4": 0.12}),
        ("NO3 1.5 mg/L 20260115083000 00", {"no3": 1.5}),
        ("pH 7.25 pH 20260115083000 0", {"pH": 7.25}),  # one-digit status
        ("pH 7.25 pH 20260115083000 00 # after a comment mark", {"pH": 7.25}),
    ],
)
def test_accepted_line_variants(line: str, fields: dict[str, float]) -> None:
    result = parse(line + "\n")
    assert result.rejects == []
    assert [(s.fields, s.time_ns, s.quality) for s in result.samples] == [(fields, T0, "good")]


def test_bom_crlf_blank_lines_and_comments() -> None:
    text = (
        "\ufeff# Tram quan trac LS\r\n\r\npH 7.2 pH 20260115083000 00\r\n"
        "   \r\n# DO next\r\nDO 5 mg/L 20260115083000 00\r\n"
    )
    result = parse(text)
    assert result.rejects == []
    assert merged(result.samples) == {"pH": 7.2, "dissolvedOxygen": 5.0}
    old_mac = parse("pH 7.2 pH 20260115083000 00\rDO 5 mg/L 20260115083000 00\r")
    assert merged(old_mac.samples) == {"pH": 7.2, "dissolvedOxygen": 5.0}


def test_other_encodings() -> None:
    line = "Độ đục 12 NTU 20260115083000 00\r\n"
    # Windows-1258 spells ộ as ô + combining dot below (F4 F2), ụ as u + F2; đ is F0, Đ is D0.
    cp1258 = b"\xd0\xf4\xf2 \xf0u\xf2c 12 NTU 20260115083000 00\r\n"
    for data in (line.encode("utf-16"), cp1258, line.encode("utf-8") + b"\x1a"):
        assert merged(parse(data).samples) == {"turbidity": 12.0}


def test_status_sets_quality_and_groups_samples() -> None:
    result = parse(
        "pH 7.2 pH 20260115083000 00\n"
        "DO 5.0 mg/L 20260115083000 01\n"
        "COD 15 mg/L 20260115083000 02\n"
        "TSS 40 mg/L 20260115083000 00\n"
        "pH 7.3 pH 20260115082500 00\n"
    )
    five_min = 300 * 10**9
    assert [(s.time_ns, s.quality, s.fields) for s in result.samples] == [
        (T0 - five_min, "good", {"pH": 7.3}),
        (T0, "good", {"pH": 7.2, "tss": 40.0}),
        (T0, "calibrating", {"dissolvedOxygen": 5.0}),
        (T0, "device_error", {"cod": 15.0}),
    ]
    assert all("status" not in s.fields for s in result.samples)


def test_air_station_names_and_conversions() -> None:
    result = parse(
        "PM-2.5 35.2 ug/m3 20260115083000 00\n"
        "PM10 60 µg/Nm³ 20260115083000 00\n"
        "NO2 0.045 mg/Nm3 20260115083000 00\n"
        "CO 1.2 mg/m3 20260115083000 00\n"
        "RH 78 % 20260115083000 00\n"
        "Temp 29 °C 20260115083000 00\n",
        name="HN_QTMT_KK01_20260115083000.txt",
        measurement="air_quality",
    )
    assert result.rejects == []
    assert [s.measurement for s in result.samples] == ["air_quality"]
    assert merged(result.samples) == {
        "pm25": 35.2,
        "pm10": 60.0,
        "no2": 45.0,
        "co": 1200.0,
        "relativeHumidity": 78.0,
        "temperature": 29.0,
    }


def test_options_param_map_unit_map_ignore() -> None:
    text = (
        "Oxy_hoa_tan 5.5 mg/L 20260115083000 00\n"
        "Do_man 0.3 ppt 20260115083000 00\n"
        "Dien_ap 12.1 V 20260115083000 00\n"
        "COD 15 mg/L 20260115083000 00\n"
    )
    result = parse(
        text,
        param_map={"Oxy_hoa_tan": "dissolvedOxygen", "Do_man": "salinity", "COD": "toc"},
        unit_map={"salinity": {"ppt": 1.0}},
        ignore_params=["Dien_ap"],
    )
    assert result.rejects == []
    assert merged(result.samples) == {"dissolvedOxygen": 5.5, "salinity": 0.3, "toc": 15.0}
    assert result.dropped == {"ignored_param": 1}


def test_options_are_validated() -> None:
    assert Tt10Options() == Tt10Options.model_validate({})
    bad: list[dict[str, Any]] = [
        {"colour": "red"},
        {"measurement": "traffic_flow"},
        {"timezone": "Asia/Hanoi_City"},
        {"param_map": {"X": "oxygen"}},
        {"param_map": {"PM2.5": "pm25"}},  # an air field on a water device
        {"unit_map": {"cod": {"g/L": 0}}},
        {"unit_map": {"nope": {"g/L": 1000}}},
        {"settle_s": -1},
        {"station": "NUOC 01"},
    ]
    for options in bad:
        with pytest.raises(ValidationError):
            Tt10Options.model_validate(options)


# --- parser: rejections ---------------------------------------------------------------------------


def test_line_rejections_name_the_line_and_reason() -> None:
    text = (
        "pH 7.2 pH 20260115083000 00\n"  # 1 ok
        "Ph_x 7.2 pH 20260115083000 00\n"  # 2 unknown, did you mean pH
        "Zzzqqq 1 mg/L 20260115083000 00\n"  # 3 unknown, nothing close
        "COD n/a mg/L 20260115083000 00\n"  # 4 non-numeric
        "COD 1.2.3 mg/L 20260115083000 00\n"  # 5 non-numeric
        "TSS 40 mg/L 20260115083000 03\n"  # 6 unknown status
        "TSS 40 mg/L 20260115083000 OK\n"  # 7 unknown status
        "DO 5 mg/L 20261315083000 00\n"  # 8 month 13
        "DO 5 mg/L 2026011508 00\n"  # 9 too short
        "DO 5 mg/L 20270115083000 00\n"  # 10 a year ahead
        "DO 5 mg/L 19700101000000 00\n"  # 11 clock never set
        "DO 5 mg/L 20260115083000\n"  # 12 status missing
        "DO 5 % 20260115083000 00\n"  # 13 saturation is not mg/L
        "pH 15 pH 20260115083000 00\n"  # 14 outside the dictionary's range
        "pH 7.3 pH 20260115083000 00\n"  # 15 same parameter again
        "pH\n"  # 16 too few fields
        "\n"
        "# done\n"
    )
    result = parse(text)
    assert merged(result.samples) == {"pH": 7.2}
    lines = [n for n, _ in result.rejects]
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    reasons = dict(result.rejects)
    assert reasons[2] == "unknown parameter 'Ph_x' for water_quality; did you mean 'pH'?"
    assert "'Zzzqqq'" in reasons[3] and "param_map" in reasons[3]
    assert reasons[4] == "value 'n/a' of COD is not a number"
    assert "'1.2.3'" in reasons[5]
    assert reasons[6].startswith("unknown status code '03'")
    assert reasons[7].startswith("unknown status code 'OK'")
    assert reasons[8].startswith("unparsable datetime '20261315083000'")
    assert reasons[9].startswith("unparsable datetime '2026011508'")
    assert "in the future" in reasons[10]
    assert "before 2000" in reasons[11]
    assert "no status code" in reasons[12]
    assert "unit '%'" in reasons[13] and "mg/L" in reasons[13]
    assert "outside" in reasons[14]
    assert "line 1" in reasons[15]
    assert "expected '<param> <value> <unit> <yyyyMMddHHmmss> <status>'" in reasons[16]
    assert result.dropped == {
        "unknown_param": 2,
        "bad_value": 2,
        "unknown_status": 2,
        "bad_datetime": 3,
        "future_datetime": 1,
        "missing_status": 1,
        "bad_unit": 1,
        "out_of_range": 1,
        "duplicate": 1,
        "too_few_fields": 1,
    }
    assert not result.file_rejected
    assert result.reason_text().splitlines()[0] == "line 2: " + reasons[2]


@pytest.mark.parametrize(
    ("name", "data", "code", "reason"),
    [
        ("NUOC01_20260115083000.txt", b"pH 7 pH 20260115083000 00", "bad_name", "<Province>_<Facility>"),
        ("LS_KCN_NUOC01_2026011508.txt", b"pH 7 pH 20260115083000 00", "bad_name", "yyyyMMddHHmmss"),
        ("LS_KCN_NUOC01_20261315083000.txt", b"pH 7 pH 20260115083000 00", "bad_name", "not a valid"),
        ("LS_KCN_NUOC01_20260115083000.csv", b"pH 7 pH 20260115083000 00", "bad_name", "does not match"),
        (NAME, b"pH 7 pH\x00\x01\x02 20260115083000 00", "not_text", "not a text file"),
        (NAME, b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_text", "not a text file"),
        (NAME, b"#" * (MAX_FILE_BYTES + 1), "too_large", "more than"),
        (NAME, b"\n# nothing\n", "empty", "no measurement lines"),
    ],
)
def test_file_rejections(name: str, data: bytes, code: str, reason: str) -> None:
    result = parse_file(name, data, now=NOW)
    assert result.samples == []
    assert len(result.rejects) == 1
    line, why = result.rejects[0]
    assert line == 0 and reason in why
    assert result.file_rejected
    assert result.dropped == {code: 1}


def test_a_path_is_as_good_as_a_name() -> None:
    line = b"pH 7 pH 20260115083000 00\n"
    for path in (
        "/srv/ftp_in/LS_KCN_NUOC01_20260115083000.txt",
        r"C:\ftp_in\LS_KCN_NUOC01_20260115083000.txt",
    ):
        result = parse(line, name=path, station="NUOC01")
        assert result.rejects == [] and result.name is not None and result.name.province == "LS"


def test_station_option() -> None:
    line = b"pH 7 pH 20260115083000 00\n"
    assert parse(line, station="NUOC01").samples
    assert parse(line, station="nuoc01").samples
    wrong = parse(line, name="LS_KCN_KHI02_20260115083000.txt", station="NUOC01")
    assert wrong.rejects == [(0, "station 'KHI02' is not this device's 'NUOC01'")]
    # A code with an underscore: the name pattern puts part of it into the facility.
    assert parse(line, name="LS_KCN_NUOC_01_20260115083000.txt", station="NUOC_01").samples


def test_too_many_lines() -> None:
    text = "pH 7 pH 20260115083000 00\n" + "# filler\n" * MAX_LINES
    result = parse(text)
    assert merged(result.samples) == {"pH": 7.0}
    assert result.rejects == [(MAX_LINES + 1, f"more than {MAX_LINES} lines; the rest is ignored")]
    exactly_max = parse("pH 7 pH 20260115083000 00\n" * MAX_LINES)  # the final line end is no extra line
    assert exactly_max.dropped == {"duplicate": MAX_LINES - 1}


# --- parser: properties ---------------------------------------------------------------------------

names = st.one_of(
    st.just(NAME), st.text(max_size=40), st.from_regex(r"[A-Z]{2}_[A-Z]{1,4}_[A-Z0-9]{1,6}_\d{14}\.txt")
)


@settings(max_examples=300)
@given(names, st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(name: str, data: bytes) -> None:
    result = parse_file(name, data, now=NOW)
    fields = dictionary()["water_quality"].fields
    for sample in result.samples:
        assert set(sample.fields) <= set(fields)
        assert sample.quality in ("good", "calibrating", "device_error")
    assert "internal_error" not in result.dropped
    assert sum(result.dropped.values()) >= len(result.rejects)


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="pHDOCTS 0123456789.,:-/\t\n#_\ufeff\r", max_size=80), max_size=8))
def test_near_valid_text_never_raises(lines: list[str]) -> None:
    result = parse("\n".join(lines))
    assert "internal_error" not in result.dropped


# Built-in station names per field (the parser must accept all of them) and plausible ranges.
WATER_NAMES = {
    "pH": (["pH", "PH", "ph"], 6.0, 9.0),
    "temperature": (["Temp", "TEMP", "Nhiet_do", "Nhiệt độ"], 20.0, 35.0),
    "dissolvedOxygen": (["DO", "do"], 0.0, 12.0),
    "cod": (["COD"], 0.0, 200.0),
    "bod5": (["BOD5"], 0.0, 100.0),
    "tss": (["TSS"], 0.0, 500.0),
    "nh4": (["NH4", "N-NH4", "Amoni"], 0.0, 10.0),
    "turbidity": (["Turbidity", "Độ đục"], 0.0, 1000.0),
}
lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(sorted(WATER_NAMES)),
        st.integers(0, 10**6),  # value position in the field's range, in millionths
        st.integers(0, 3),  # minutes before T0
        st.sampled_from(["00", "01", "02"]),
        st.integers(0, 2**16),  # layout choices
    ),
    max_size=25,
    unique_by=lambda item: (item[0], item[2], item[3]),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(lines_strategy, st.booleans(), st.booleans())
def test_generated_files_round_trip(
    items: list[tuple[str, int, int, str, int]], bom: bool, crlf: bool
) -> None:
    quality = {"00": "good", "01": "calibrating", "02": "device_error"}
    expected: dict[tuple[int, str], dict[str, float]] = {}
    rendered = []
    for field, position, minutes, status, layout in items:
        names_, low, high = WATER_NAMES[field]
        value = round(low + (high - low) * position / 10**6, 2)
        local = datetime(2026, 1, 15, 8, 30 - minutes)
        stamp = local.strftime("%Y-%m-%d %H:%M:%S") if layout & 1 else local.strftime("%Y%m%d%H%M%S")
        text_value = f"{value:.2f}".replace(".", ",") if layout & 2 else f"{value:.2f}"
        name = names_[(layout >> 2) % len(names_)]
        unit = "" if layout & 8 else {"pH": "pH", "temperature": "°C", "turbidity": "NTU"}.get(field, "mg/L")
        sep = "\t" if layout & 16 else " " * (1 + (layout >> 5) % 3)
        tokens = (
            [stamp, name, text_value, unit, status]
            if layout & 64
            else [name, text_value, unit, stamp, status]
        )
        rendered.append(sep.join(t for t in tokens if t))
        expected.setdefault((T0 - minutes * 60 * 10**9, quality[status]), {})[field] = value
    text = ("\ufeff" if bom else "") + ("\r\n" if crlf else "\n").join(rendered)
    result = parse(text)
    assert result.rejects == ([] if items else [(0, "no measurement lines")])
    assert {(s.time_ns, s.quality): s.fields for s in result.samples} == expected
    assert [s.time_ns for s in result.samples] == sorted(s.time_ns for s in result.samples)


# --- the Source through a real folder -------------------------------------------------------------


class FakeClock:
    """Monotonic and wall time under the test's control, so settling never depends on machine speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_source(folder: Path, state: Path, clock: FakeClock | None = None, **options: Any) -> Tt10Source:
    ctx = DeviceContext(
        device_id="wq-ls-kcn-01",
        port=str(folder),
        baudrate=None,
        poll_interval_s=0.02,
        options=Tt10Options(**options),
        state_dir=state,
    )
    if clock is None:
        return Tt10Source(ctx)
    return Tt10Source(ctx, clock=clock, wall=clock)


def write_station_file(
    folder: Path, minute: int, station: str = "NUOC01", mtime: float | None = None
) -> Path:
    path = folder / f"LS_KCN_{station}_2026011508{minute:02d}00.txt"
    stamp = f"2026011508{minute:02d}00"
    path.write_text(f"pH 7.{minute:02d} pH {stamp} 00\nDO 5.{minute:02d} mg/L {stamp} 00\n", encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def minute_ns(minute: int) -> int:
    return T0 + (minute - 30) * 60 * 10**9


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    folder, state = tmp_path / "ftp" / "LS_KCN_NUOC01", tmp_path / "state"
    folder.mkdir(parents=True)
    return folder, state


def test_files_that_arrived_while_down_are_read_oldest_first_and_archived(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    for minute in (45, 31, 50, 40):  # written out of order, as a catching-up datalogger may
        write_station_file(folder, minute)
    old = time.time() - 60  # untouched for a minute: settled as soon as the Source looks
    for path in folder.iterdir():
        os.utime(path, (old, old))
    source, emitted = make_source(folder, state), []
    assert source.poll(emitted.append) == 4
    assert [s.time_ns for s in emitted] == [minute_ns(m) for m in (31, 40, 45, 50)]
    assert emitted[0].fields == {"pH": 7.31, "dissolvedOxygen": 5.31}
    assert source.counts == {"processed": 4}
    assert [p.name for p in folder.iterdir()] == ["processed"]
    assert len(list((folder / "processed" / "2026-01-15").iterdir())) == 4
    source.close()


def test_restart_reads_nothing_twice(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    for minute in (31, 32, 33):
        write_station_file(folder, minute, mtime=time.time() - 60)
    first, emitted = make_source(folder, state, archive=False), []
    first.poll(emitted.append)
    assert len(emitted) == 3
    assert first.poll(emitted.append) == 0  # still in the folder (archive off), not read again
    first.close()

    second = make_source(folder, state, archive=False)  # a restart: same state_dir, new Source
    assert second.poll(emitted.append) == 3
    assert len(emitted) == 3
    assert second.counts == {"duplicate": 3}
    second.close()

    # Re-sent unchanged → skipped (and archived now); same name, new content → read again.
    third = make_source(folder, state)
    path = write_station_file(folder, 33)
    path.write_text("pH 8.5 pH 20260115083300 00\n", encoding="utf-8")
    os.utime(path, (time.time() - 60,) * 2)
    third.poll(emitted.append)
    assert third.counts == {"duplicate": 2, "rewritten": 1, "processed": 1}
    assert emitted[-1].fields == {"pH": 8.5}
    assert len(emitted) == 4
    assert not list(folder.glob("*.txt"))
    third.close()


def test_crash_between_emit_and_ledger_reads_the_file_again(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    for minute in (31, 32):
        write_station_file(folder, minute, mtime=time.time() - 60)
    emitted: list[Sample] = []

    def failing_emit(sample: Sample) -> None:
        if len(emitted) == 1:
            raise OSError("uplink buffer full")
        emitted.append(sample)

    source = make_source(folder, state)
    with pytest.raises(OSError):
        source.run(failing_emit, threading.Event())
    source.close()
    again = make_source(folder, state)
    again.poll(emitted.append)
    assert [s.time_ns for s in emitted] == [minute_ns(31), minute_ns(32)]
    assert again.counts == {"processed": 1}
    again.close()


def test_half_written_file_waits_until_settled(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    clock = FakeClock()
    source, emitted = make_source(folder, state, clock, settle_s=2.0), []
    data = b"pH 7.2 pH 20260115083000 00\nDO 5.1 mg/L 20260115083000 00\n"
    path = folder / NAME

    def write(chunk: bytes) -> None:
        with path.open("ab") as f:
            f.write(chunk)
        os.utime(path, (clock.now, clock.now))

    write(data[:20])  # "pH 7.2 pH 2026011508": read now, it would be a wrong line
    assert source.poll(emitted.append) == 0  # first look, written just now
    clock.now += 1.0
    assert source.poll(emitted.append) == 0  # unchanged for 1 s of 2
    write(data[20:40])
    clock.now += 1.5
    assert source.poll(emitted.append) == 0  # grew since the last look
    clock.now += 1.5
    assert source.poll(emitted.append) == 0  # unchanged for 1.5 s of 2
    write(data[40:])
    assert source.poll(emitted.append) == 0
    clock.now += 1.9
    assert source.poll(emitted.append) == 0
    clock.now += 0.1
    assert source.poll(emitted.append) == 1
    assert merged(emitted) == {"pH": 7.2, "dissolvedOxygen": 5.1}
    assert source.dropped == {}
    source.close()


@pytest.mark.timeout(20)
def test_simulator_writes_in_two_chunks_and_the_source_waits(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    clock = FakeClock()
    source, emitted = make_source(folder, state, clock, settle_s=2.0), []
    sim = Tt10Simulator(folder=folder, seed=3, chunk_pause_s=30.0)  # the pause ends at sim.stop()
    writer = threading.Thread(target=sim.write_file)
    writer.start()
    try:
        assert wait_for(lambda: any(p.stat().st_size for p in folder.glob("*.txt")))
        for _ in range(3):
            assert source.poll(emitted.append) == 0
            clock.now += 0.5  # 1.5 s unchanged in all, of the 2 s settle_s
    finally:
        sim.stop()
        writer.join(timeout=5)
    assert len(sim.emitted) == 1
    source.poll(emitted.append)  # the file grew: it must settle again
    clock.now += 2.0
    assert source.poll(emitted.append) == 1
    assert [(s.time_ns, s.fields) for s in emitted] == sim.emitted
    source.close()


def test_rejected_files_land_in_rejected_with_a_reason(dirs: tuple[Path, Path]) -> None:
    folder, state = dirs
    old = time.time() - 60
    (folder / "bao_cao_thang_1.txt").write_text("pH 7 pH 20260115083000 00\n", encoding="utf-8")
    write_station_file(folder, 31, station="KHI02")
    (folder / "LS_KCN_NUOC01_20260115083200.txt").write_text(
        "Zzz 1 mg/L 20260115083200 00\n", encoding="utf-8"
    )
    (folder / "LS_KCN_NUOC01_20260115083300.txt").write_text(
        "pH 7 pH 20260115083300 00\nCOD x mg/L 20260115083300 00\n", encoding="utf-8"
    )
    (folder / "LS_KCN_NUOC01_20260115083400.txt").write_bytes(b"")  # an upload that has not started
    (folder / "notes.md").write_text("not a station file")
    (folder / ".LS_KCN_NUOC01_20260115083500.txt.part").write_text("pH 7 pH 20260115083500 00\n")
    for path in folder.iterdir():
        os.utime(path, (old, old))
    source, emitted = make_source(folder, state, station="NUOC01"), []
    source.poll(emitted.append)
    assert merged(emitted) == {"pH": 7.0}
    assert source.counts == {"processed": 1, "rejected": 3}
    assert source.dropped == {"bad_name": 1, "wrong_station": 1, "unknown_param": 1, "bad_value": 1}
    rejected = folder / "rejected"
    reasons = {p.name: p.read_text(encoding="utf-8") for p in rejected.glob("*.reason.txt")}
    assert set(reasons) == {
        "bao_cao_thang_1.txt.reason.txt",
        "LS_KCN_KHI02_20260115083100.txt.reason.txt",
        "LS_KCN_NUOC01_20260115083200.txt.reason.txt",
    }
    assert "<Province>_<Facility>_<Station>_<yyyyMMddHHmmss>.txt" in reasons["bao_cao_thang_1.txt.reason.txt"]
    assert reasons["LS_KCN_NUOC01_20260115083200.txt.reason.txt"].startswith(
        "line 1: unknown parameter 'Zzz'"
    )
    assert (rejected / "bao_cao_thang_1.txt").exists()
    partial = folder / "processed" / "2026-01-15"
    assert (partial / "LS_KCN_NUOC01_20260115083300.txt").exists()
    assert (
        (partial / "LS_KCN_NUOC01_20260115083300.txt.reason.txt").read_text().startswith("line 2: value 'x'")
    )
    left = sorted(p.name for p in folder.iterdir())
    assert left == [
        ".LS_KCN_NUOC01_20260115083500.txt.part",
        "LS_KCN_NUOC01_20260115083400.txt",
        "notes.md",
        "processed",
        "rejected",
    ]
    source.close()


def test_missing_folder_raises_for_the_edge_to_retry(tmp_path: Path) -> None:
    source = make_source(tmp_path / "not-mounted", tmp_path / "state")
    with pytest.raises(FileNotFoundError):
        source.run(lambda sample: None, threading.Event())
    source.close()


def wait_for(condition: Any, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(condition())


@pytest.mark.timeout(20)
def test_simulator_through_folder_and_running_source(tmp_path: Path) -> None:
    state = tmp_path / "state"
    sim = Tt10Simulator(interval_s=0.05, seed=7, atomic=True, noise=0.3, folder=tmp_path / "ftp")
    source = make_source(Path(sim.port), state, settle_s=0.0)
    emitted: list[Sample] = []
    stop = threading.Event()
    worker = threading.Thread(target=source.run, args=(emitted.append, stop))
    try:
        sim.start()
        worker.start()
        for fault in ("variant", "calibrating", "badname", "dropout", "garbage", None):
            sim.set_fault(fault)
            ticks = sim.ticks
            assert wait_for(lambda n=ticks: sim.ticks >= n + 3)
        sim.stop()
        assert wait_for(lambda: source.counts["processed"] + source.counts["rejected"] == len(sim.files))
    finally:
        stop.set()
        worker.join(timeout=5)
        sim.stop()
        source.close()
    got: dict[int, dict[str, Any]] = {}
    for sample in emitted:
        got.setdefault(sample.time_ns, {}).update(sample.fields)
    assert sorted(got.items()) == sorted(sim.emitted)
    assert source.counts["rejected"] == sum(not f.valid for f in sim.files) > 0
    qualities = {(s.time_ns, f): s.quality for s in emitted for f in s.fields}
    expected = {(f.time_ns, k): q for f in sim.files if f.valid for k, q in f.qualities.items()}
    assert qualities == expected
    assert "calibrating" in qualities.values()
    assert set(source.dropped) - {"bad_name"} <= {
        "unknown_param",
        "bad_value",
        "unknown_status",
        "bad_datetime",
        "too_few_fields",
    }


# --- simulator ------------------------------------------------------------------------------------


def test_simulator_values_plausible_and_repeat_with_seed() -> None:
    a, b = Tt10Simulator(seed=5), Tt10Simulator(seed=5)
    try:
        start = datetime(2026, 1, 15, 0, 0, tzinfo=UTC).timestamp()
        files_a = [a.next_file(start + 600 * i) for i in range(144)]  # a day, every 10 minutes
        files_b = [b.next_file(start + 600 * i) for i in range(144)]
        assert [f[0] for f in files_a if f] == [f[0] for f in files_b if f]
        fields = dictionary()["water_quality"].fields
        for made in files_a:
            assert made is not None
            sim_file, data = made
            assert parse_file(sim_file.name, data, now=sim_file.time_ns).samples
            assert set(sim_file.fields) <= set(fields)
            f = sim_file.fields
            assert 6.5 <= f["pH"] <= 8 and 4 <= f["dissolvedOxygen"] <= 7 and 24 <= f["temperature"] <= 31
            assert 8 <= f["cod"] <= 25 and 4 <= f["bod5"] <= 12 and f["bod5"] < f["cod"]
            assert 15 <= f["tss"] <= 80 and 0.1 <= f["nh4"] <= 0.8
        temps = [made[0].fields["temperature"] for made in files_a if made]
        # Daily cycle: local afternoon (UTC 07-09) warmer than local pre-dawn (UTC 21-23 of the day before).
        assert sum(temps[42:54]) > sum(temps[0:12] + temps[132:144]) / 2
    finally:
        a.stop()
        b.stop()


def test_simulator_faults() -> None:
    sim = Tt10Simulator(seed=2)
    try:
        assert set(FAULTS) == {"calibrating", "device_error", "garbage", "badname", "variant", "dropout"}
        with pytest.raises(ValueError, match="unknown fault"):
            sim.set_fault("smoke")
        sim.set_fault("dropout")
        assert sim.next_file() is None
        sim.set_fault("badname")
        made = sim.next_file()
        assert made is not None and not made[0].valid
        assert parse_file(made[0].name, made[1]).file_rejected
        for fault, quality in (("calibrating", "calibrating"), ("device_error", "device_error")):
            sim.set_fault(fault)
            made = sim.next_file()
            assert made is not None
            assert list(made[0].qualities.values()).count(quality) == 1
            result = parse_file(made[0].name, made[1], now=made[0].time_ns)
            assert {f: s.quality for s in result.samples for f in s.fields} == made[0].qualities
        for fault in ("garbage", "variant", None):
            sim.set_fault(fault)
            for _ in range(20):
                made = sim.next_file()
                assert made is not None
                result = parse_file(made[0].name, made[1], now=made[0].time_ns)
                assert merged(result.samples) == made[0].fields
                assert bool(result.rejects) == (fault == "garbage")
    finally:
        sim.stop()
    assert not Path(sim.port).exists()  # its own temp folder is removed


# --- registration ---------------------------------------------------------------------------------


def test_registered_as_a_files_source(tmp_path: Path) -> None:
    family = registry.get("tt10")
    assert family is FAMILY
    assert (family.transport, family.measurement, family.options) == ("files", "water_quality", Tt10Options)
    assert family.new_decoder is None and family.new_source is not None
    ctx = DeviceContext("d1", str(tmp_path), None, 5.0, Tt10Options(), tmp_path / "state")
    source = family.new_source(ctx)
    assert isinstance(source, Tt10Source)
    source.close()
    sim = family.new_simulator(interval_s=0.5, seed=1, noise=0.0)
    try:
        assert isinstance(sim, registry.Simulator)
        assert Path(sim.port).is_dir()
    finally:
        sim.stop()


def test_sample_config_validates() -> None:
    folder = resources.files("firmware_bridge.tt10")
    sample = yaml.safe_load(folder.joinpath("sample.yaml").read_text(encoding="utf-8"))
    assert registry.get(sample["family"]) is FAMILY
    options = Tt10Options.model_validate(sample["options"])
    assert options.station and sample["port"].startswith("/")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for option in Tt10Options.model_fields:
        assert f"`{option}`" in readme
