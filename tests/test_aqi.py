"""VN_AQI (QĐ 1459/QĐ-TCMT): hand-computed cases, an independent naive implementation compared
under hypothesis, and the ``ioc aqi`` CSV command.

The decision's own worked example (its pages 8–9: NowCast 20.3, hourly AQI 60, daily AQI 110) is
known only by its results from a secondary transcription, not its input data, so the cases here
are computed by hand from the formulas in standards.md §1, the arithmetic written beside each.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cloud.indices.aqi import (
    AQI_BANDS,
    POLLUTANTS,
    HourlyAqi,
    band,
    beyond_scale,
    daily_aqi,
    hourly_aqi,
    max_8h_mean,
    round_half_up,
    sub_index,
)
from cloud.indices.cli import aqi_command
from cloud.indices.nowcast import nowcast, nowcast_weight
from ioc.measurements import dictionary

DATA = Path(__file__).parent / "data" / "aqi"
ROOT = Path(__file__).parents[1]


# --- sub-indices: one case in each band ------------------------------------------------------


@pytest.mark.parametrize(
    ("pollutant", "c", "averaging", "expected", "label"),
    [
        # PM2.5 12.5: (50−0)/(25−0)·(12.5−0) + 0 = 25
        ("pm25", 12.5, "1h", 25.0, "Tốt"),
        # PM10 100: (100−50)/(150−50)·(100−50) + 50 = 0.5·50 + 50 = 75
        ("pm10", 100, "1h", 75.0, "Trung bình"),
        # NO2 450: (150−100)/(700−200)·(450−200) + 100 = 0.1·250 + 100 = 125
        ("no2", 450, "1h", 125.0, "Kém"),
        # SO2 675: (200−150)/(800−550)·(675−550) + 150 = 0.2·125 + 150 = 175
        ("so2", 675, "1h", 175.0, "Xấu"),
        # CO 75000: (300−200)/(90000−60000)·(75000−60000) + 200 = 100·0.5 + 200 = 250
        ("co", 75000, "1h", 250.0, "Rất xấu"),
        # O3 1-h 1100: (500−400)/(1200−1000)·(1100−1000) + 400 = 0.5·100 + 400 = 450
        ("o3", 1100, "1h", 450.0, "Nguy hại"),
        # O3 8-h 145: (150−100)/(170−120)·(145−120) + 100 = 1·25 + 100 = 125
        ("o3", 145, "8h", 125.0, "Kém"),
        # A breakpoint starts the next segment: PM2.5 25 → (100−50)/(50−25)·0 + 50 = 50
        ("pm25", 25, "1h", 50.0, "Tốt"),
        # The top breakpoint itself gives the top index.
        ("pm25", 500, "1h", 500.0, "Nguy hại"),
        ("o3", 400, "8h", 300.0, "Rất xấu"),
    ],
)
def test_sub_index_by_hand(pollutant: str, c: float, averaging: str, expected: float, label: str) -> None:
    value = sub_index(pollutant, c, averaging)  # type: ignore[arg-type]
    assert value == pytest.approx(expected)
    assert band(value).vi == label


def test_above_the_scale_caps_at_500_except_o3_8h() -> None:
    assert sub_index("pm25", 600) == 500.0 and beyond_scale("pm25", 600)
    assert not beyond_scale("pm25", 500)
    assert sub_index("co", 1e6) == 500.0
    # The 8-h column ends at 400 µg/m³ (index 300); the decision uses the 1-h value above it.
    assert sub_index("o3", 400.1, "8h") is None


def test_sub_index_rejects_nonsense() -> None:
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            sub_index("pm25", bad)
    with pytest.raises(ValueError, match="unknown pollutant"):
        sub_index("pm1", 3)
    with pytest.raises(ValueError, match="O3 only"):
        sub_index("pm25", 3, "8h")


# --- rounding --------------------------------------------------------------------------------


def test_round_half_up_not_bankers() -> None:
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, 74.5, 74.49)] == [1, 2, 3, 75, 74]
    assert round(2.5) == 2  # what we must not do
    # Float noise just under a half still rounds up: 0.1·3 = 0.30000000000000004 style errors.
    assert round_half_up(50.49999999999999) == 51


def test_hourly_aqi_rounds_half_up() -> None:
    # PM10 51 every hour: w* = 1 → NowCast 51; (100−50)/(150−50)·(51−50) + 50 = 50.5 → 51
    # (banker's rounding would give 50).
    result = hourly_aqi({"pm10": [51.0] * 12})
    assert result is not None
    assert result.sub_indices["pm10"] == 50.5
    assert result.aqi == 51 and result.band.vi == "Trung bình"
    # PM2.5 26.25: (100−50)/(50−25)·(26.25−25) + 50 = 2·1.25 + 50 = 52.5 → 53
    assert hourly_aqi({"pm25": [26.25, 26.25]}).aqi == 53  # type: ignore[union-attr]


# --- NowCast ---------------------------------------------------------------------------------


def test_nowcast_w_above_half() -> None:
    # c = 30, 25, 20: w* = 20/30 = 2/3 > 1/2 → w = 2/3
    # NowCast = (30 + 25·(2/3) + 20·(4/9)) / (1 + 2/3 + 4/9); ×9: (270 + 150 + 80) / (9 + 6 + 4) = 500/19
    assert nowcast_weight([30, 25, 20]) == pytest.approx(2 / 3)
    assert nowcast([30, 25, 20]) == pytest.approx(500 / 19)


def test_nowcast_w_half_is_the_decisions_unnormalised_form() -> None:
    # c = 10, 40: w* = 0.25 → w = 1/2; Σ (1/2)^i·ci = 0.5·10 + 0.25·40 = 15
    assert nowcast([10, 40]) == pytest.approx(15.0)
    # The normalised alternative: (10 + 0.5·40) / (1 + 0.5) = 30 / 1.5 = 20
    assert nowcast([10, 40], half_weight_form="normalised") == pytest.approx(20.0)
    # All 12 hours: c1 = 100, c2..c12 = 10, w* = 0.1 → 1/2:
    # 0.5·100 + 10·Σ_{i=2..12} (1/2)^i = 50 + 10·(1/2 − 2^−12) = 54.99755859375
    assert nowcast([100] + [10] * 11) == pytest.approx(54.99755859375)
    # w* exactly 1/2 is not > 1/2, so w = 1/2: c = 20, 10 → 0.5·20 + 0.25·10 = 12.5
    assert nowcast([20, 10]) == pytest.approx(12.5)


def test_nowcast_missing_hours_carry_no_weight() -> None:
    # c = 40, –, 32: w* = 0.8; c3 keeps exponent 2:
    # (40 + 0.8²·32) / (1 + 0.8²) = (40 + 20.48) / 1.64 = 36.878048780…
    assert nowcast([40, None, 32]) == pytest.approx(60.48 / 1.64)
    # Missing c1 with w = 1/2 (c2 = 10, c3 = 40, w* = 0.25): 0.25·10 + 0.125·40 = 7.5
    assert nowcast([None, 10, 40]) == pytest.approx(7.5)
    # Hours beyond the 12th are ignored: the 13th would pull w* down.
    assert nowcast([50] * 12 + [1]) == pytest.approx(50.0)


def test_nowcast_needs_two_of_the_first_three() -> None:
    assert nowcast([10, None, None, 20, 20]) is None
    assert nowcast([None, None, 5, 5, 5]) is None
    assert nowcast([]) is None
    assert nowcast([None, 5, 5]) == pytest.approx(5.0)  # 2 of 3, w = 1: mean 5
    assert nowcast([0, 0, 0]) == 0.0  # max 0: w*=0/0, every form gives 0


# --- hourly and daily AQI ------------------------------------------------------------------------


def test_hourly_aqi_takes_the_max_and_needs_pm() -> None:
    # PM2.5 NowCast 37.5 (w = 1): 2·(37.5−25) + 50 = 75; O3 1-h 250: 0.5·(250−200) + 100 = 125
    result = hourly_aqi({"pm25": [37.5] * 12, "o3": [250.0], "no2": [None]})
    assert result is not None
    assert (result.aqi, result.dominant) == (125, "o3")
    assert result.rounded() == {"pm25": 75, "o3": 125}
    assert result.concentrations["pm25"] == pytest.approx(37.5)
    assert hourly_aqi({"o3": [250.0], "co": [5000.0]}) is None  # no PM
    assert hourly_aqi({"pm25": [37.5, None, None]}) is None  # no NowCast
    # Only the current hour counts for gases: an older O3 value is not used.
    assert hourly_aqi({"pm25": [10, 10], "o3": [None, 1000]}).dominant == "pm25"  # type: ignore[union-attr]


def test_hourly_aqi_ties_and_caps() -> None:
    # PM2.5 37.5 → 75 and PM10 100 → 75: equal, PM2.5 first in the tie order.
    assert hourly_aqi({"pm10": [100, 100], "pm25": [37.5, 37.5]}).dominant == "pm25"  # type: ignore[union-attr]
    capped = hourly_aqi({"pm25": [800, 800]})
    assert capped is not None and capped.aqi == 500 and capped.beyond_scale == ("pm25",)


def test_daily_aqi_pm_mean_and_gas_maximum() -> None:
    # PM2.5: 12 h at 30 and 12 h at 45 → 24-h mean 37.5 → 75.
    # NO2: highest 1-h mean 450 → 125 (the 23 h at 100 don't matter).
    result = daily_aqi({"pm25": [30.0] * 12 + [45.0] * 12, "no2": [100.0] * 23 + [450.0]})
    assert result is not None
    assert result.sub_indices["pm25"] == pytest.approx(75.0)
    assert (result.aqi, result.dominant) == (125, "no2")


def test_daily_aqi_completeness_is_18_of_24() -> None:
    # Our choice (75 %): 17 hours are not enough, 18 are.
    assert daily_aqi({"pm25": [40.0] * 17 + [None] * 7}) is None
    enough = daily_aqi({"pm25": [40.0] * 18 + [None] * 6})
    assert enough is not None and enough.aqi == 80  # 2·(40−25) + 50 = 80
    # A gas short of hours is left out, the PM still makes an AQI.
    partial = daily_aqi({"pm25": [40.0] * 24, "so2": [2000.0] * 10})
    assert partial is not None and "so2" not in partial.sub_indices


def test_daily_o3_uses_the_larger_of_1h_and_8h() -> None:
    # O3 390 for 8 hours, 50 otherwise. 1-h: (200−150)/(400−300)·(390−300) + 150 = 195.
    # Highest 8-h mean 390: (300−200)/(400−210)·(390−210) + 200 = 100·180/190 + 200 = 294.736…
    o3 = [50.0] * 8 + [390.0] * 8 + [50.0] * 8
    result = daily_aqi({"pm25": [10.0] * 24, "o3": o3})
    assert result is not None and not result.o3_8h_skipped
    assert result.o3_max_8h == pytest.approx(390.0)
    assert result.sub_indices["o3"] == pytest.approx(200 + 100 * 180 / 190)
    assert (result.aqi, result.dominant) == (295, "o3")


def test_daily_o3_skips_the_8h_term_above_400() -> None:
    # O3 450 for 8 hours: highest 8-h mean 450 > 400 → the 8-h term is left out.
    # 1-h: (300−200)/(800−400)·(450−400) + 200 = 0.25·50 + 200 = 212.5 → 213 (half up)
    o3 = [100.0] * 8 + [450.0] * 8 + [100.0] * 8
    result = daily_aqi({"pm25": [10.0] * 24, "o3": o3})
    assert result is not None and result.o3_8h_skipped
    assert result.sub_indices["o3"] == pytest.approx(212.5)
    assert result.aqi == 213


def test_o3_8h_windows_reach_into_the_previous_day() -> None:
    # The 8-h mean at hour h covers h−7 … h, so the day's first windows need the day before.
    day = [200.0, 200.0, 200.0] + [0.0] * 21
    # Alone: the first window with 6 of 8 values ends at 05:00: (3·200 + 3·0) / 6 = 100.
    assert max_8h_mean(day) == pytest.approx(600 / 6)
    # With 17:00–23:00 of the day before at 200, the window 17:00 … 00:00 is all 200.
    assert max_8h_mean(day, [200.0] * 7) == pytest.approx(200.0)
    assert max_8h_mean([10.0] * 5 + [None] * 19) is None  # no window with 6 of 8


# --- bands -----------------------------------------------------------------------------------


def test_bands() -> None:
    edges = {0: "Good", 50: "Good", 51: "Moderate", 100: "Moderate", 101: "Poor", 150: "Poor", 151: "Bad"}
    edges |= {200: "Bad", 201: "Very bad", 300: "Very bad", 301: "Hazardous", 500: "Hazardous"}
    for value, label in edges.items():
        assert band(value).en == label
    assert band(50.5).en == "Moderate"  # rounded half up first
    assert AQI_BANDS[0].rgb == (0, 228, 0) and AQI_BANDS[-1].hex == "#7E0023"
    assert [(b.low, b.high) for b in AQI_BANDS] == [
        (0, 50),
        (51, 100),
        (101, 150),
        (151, 200),
        (201, 300),
        (301, 500),
    ]


def test_names_are_dictionary_fields() -> None:
    measurements = dictionary()
    assert set(POLLUTANTS) <= set(measurements["air_quality"].fields)
    assert set(POLLUTANTS) | {"aqi", "dominant"} <= set(measurements["aqi"].fields)


# --- an independent, deliberately naive implementation -----------------------------------------
# Written straight from standards.md §1, sharing no code with cloud.indices.

NAIVE_TABLE = {
    "pm25": [0, 25, 50, 80, 150, 250, 350, 500],
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],
    "no2": [0, 100, 200, 700, 1200, 2350, 3100, 3850],
    "so2": [0, 125, 350, 550, 800, 1600, 2100, 2630],
    "co": [0, 10000, 30000, 45000, 60000, 90000, 120000, 150000],
    "o3": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 120, 170, 210, 400],
}
NAIVE_I = [0, 50, 100, 150, 200, 300, 400, 500]


def naive_sub(column: str, c: float) -> float | None:
    bp = NAIVE_TABLE[column]
    for i in range(len(bp) - 1):
        if bp[i] <= c < bp[i + 1]:
            return (NAIVE_I[i + 1] - NAIVE_I[i]) / (bp[i + 1] - bp[i]) * (c - bp[i]) + NAIVE_I[i]
    if c == bp[-1]:
        return NAIVE_I[len(bp) - 1]
    return 500 if len(bp) == 8 else None


def naive_nowcast(cs: list[float | None]) -> float | None:
    c = cs[:12]
    if len([x for x in c[:3] if x is not None]) < 2:
        return None
    values = [x for x in c if x is not None]
    w_star = min(values) / max(values) if max(values) > 0 else 1.0
    w = w_star if w_star > 0.5 else 0.5
    if w > 0.5:
        top = sum(w ** (i - 1) * x for i, x in enumerate(c, 1) if x is not None)
        return top / sum(w ** (i - 1) for i, x in enumerate(c, 1) if x is not None)
    return sum(0.5**i * x for i, x in enumerate(c, 1) if x is not None)


def naive_hourly(data: dict[str, list[float | None]]) -> dict[str, float]:
    subs = {}
    for p, hours in data.items():
        c = naive_nowcast(hours) if p in ("pm25", "pm10") else (hours[0] if hours else None)
        if c is not None:
            subs[p] = naive_sub(p, c)
    return subs if ("pm25" in subs or "pm10" in subs) else {}


def naive_daily(data: dict[str, list[float | None]], before: list[float | None]) -> dict[str, float]:
    subs = {}
    for p, hours in data.items():
        values = [x for x in hours if x is not None]
        if len(values) < 18:
            continue
        if p in ("pm25", "pm10"):
            subs[p] = naive_sub(p, sum(values) / len(values))
        elif p != "o3":
            subs[p] = naive_sub(p, max(values))
        else:
            one = naive_sub("o3", max(values))
            series = before + hours
            means = []
            for end in range(len(before), len(series)):
                window = [x for x in series[max(0, end - 7) : end + 1] if x is not None]
                if len(window) >= 6:
                    means.append(sum(window) / len(window))
            eight = naive_sub("o3_8h", max(means)) if means and max(means) <= 400 else None
            subs[p] = max(one, eight) if eight is not None else one
    return subs if ("pm25" in subs or "pm10" in subs) else {}


SCALE = {"pm25": 600.0, "pm10": 700.0, "o3": 1400.0, "no2": 4000.0, "so2": 3000.0, "co": 160000.0}


def concentration(p: str) -> st.SearchStrategy[float]:
    return st.floats(0, SCALE[p], allow_nan=False)


def hourly_series(p: str) -> st.SearchStrategy[list[float | None]]:
    return st.lists(st.one_of(st.none(), concentration(p), concentration(p)), max_size=13)


def day_series(p: str) -> st.SearchStrategy[list[float | None]]:
    def drop(values: list[float], gaps: list[int]) -> list[float | None]:
        return [None if i in gaps else v for i, v in enumerate(values)]

    # O3 also draws from a low range, where the 8-h column often beats the 1-h one.
    tops = [SCALE[p], 300.0] if p == "o3" else [SCALE[p]]
    values = st.sampled_from(tops).flatmap(
        lambda top: st.lists(st.floats(0, top, allow_nan=False), min_size=24, max_size=24)
    )
    return st.builds(drop, values, st.lists(st.integers(0, 23), max_size=9))


def assert_same(result: HourlyAqi | None, subs: dict[str, float]) -> None:
    if not subs:
        assert result is None
        return
    assert result is not None
    assert set(result.sub_indices) == set(subs)
    for p, value in subs.items():
        assert result.sub_indices[p] == pytest.approx(value, rel=1e-9, abs=1e-9)
    top = max(subs.values())
    if abs(top % 1 - 0.5) > 1e-6:  # away from a half, the two roundings must agree
        assert result.aqi == math.floor(top + 0.5)
    assert subs[result.dominant] == pytest.approx(top, rel=1e-9, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={p: hourly_series(p) for p in POLLUTANTS}))
def test_hourly_matches_naive(data: dict[str, list[float | None]]) -> None:
    assert_same(hourly_aqi(data), naive_hourly(data))


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries({}, optional={p: day_series(p) for p in POLLUTANTS}),
    st.lists(st.one_of(st.none(), concentration("o3")), min_size=7, max_size=7),
)
def test_daily_matches_naive(data: dict[str, list[float | None]], before: list[float | None]) -> None:
    assert_same(daily_aqi(data, o3_before=before), naive_daily(data, before))


# --- the CSV command -------------------------------------------------------------------------

app = typer.Typer()
app.command()(aqi_command)


def test_cli_good_file(tmp_path: Path) -> None:
    # BMT-01: PM2.5 37.5 every hour of 2026-01-15 → 75 from 01:00 (00:00 has c1 only: no NowCast);
    # O3 250 at 05:00Z = 12:00 local → 125 that hour. Daily: 24-h mean 37.5 → 75, O3 (1 h) left out.
    # LS-02 (first in the file, last in the output): PM10 51 at 08:00 and 09:00 → 50.5 → 51 at 09:00.
    result = CliRunner().invoke(app, ["--input", str(DATA / "good.csv")])
    assert result.exit_code == 0, result.output
    assert result.stdout == (DATA / "good_expected.csv").read_text()
    out = tmp_path / "aqi.csv"
    assert CliRunner().invoke(app, ["--input", str(DATA / "good.csv"), "--output", str(out)]).exit_code == 0
    assert out.read_text() == (DATA / "good_expected.csv").read_text()


def test_cli_bad_file_lists_every_problem() -> None:
    result = CliRunner().invoke(app, ["--input", str(DATA / "bad.csv")])
    assert result.exit_code == 2
    assert result.stdout == ""
    path = str(DATA / "bad.csv")
    for line, text in [
        (2, "unknown pollutant 'PM2.5'; did you mean 'pm25'?"),
        (3, "unparsable time 'yesterday'"),
        (4, "has no UTC offset"),
        (5, "negative value -4"),
        (7, "duplicate of line 6"),  # 03:00Z is 10:00+07:00
        (8, "not the start of an hour"),
        (9, "unknown pollutant 'nox'; did you mean 'no2'?"),
        (10, "expected 4 fields"),
        (11, "value 'abc' is not a number"),
    ]:
        assert any(
            row.startswith(f"{path}:{line}: ") and text in row for row in result.stderr.splitlines()
        ), (line, text)
    assert f"{path}:6:" not in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_file_and_bad_header(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["--input", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("site,time,value\nA,2026-01-15T00:00:00+07:00,3\n")
    result = CliRunner().invoke(app, ["--input", str(wrong)])
    assert result.exit_code == 2
    assert f"{wrong}:1: header 'site,time,value' lacks station, pollutant" in result.stderr


@pytest.mark.timeout(60)
def test_cli_in_a_real_process() -> None:
    run = [
        sys.executable,
        "-c",
        "import typer; from cloud.indices.cli import aqi_command; typer.run(aqi_command)",
    ]
    good = subprocess.run([*run, "--input", str(DATA / "good.csv")], capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0 and good.stdout == (DATA / "good_expected.csv").read_text()
    bad = subprocess.run([*run, "--input", str(DATA / "bad.csv")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert "bad.csv:9: unknown pollutant 'nox'" in bad.stderr and "Traceback" not in bad.stderr
