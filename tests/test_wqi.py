"""VN_WQI (QĐ 1460/QĐ-TCMT, unconfirmed — see cloud/indices/wqi.py): hand-computed sub-indices per
parameter, the aggregation, bands, and the mapping to the measurement dictionary."""

from __future__ import annotations

import math

import pytest

from cloud.indices.wqi import (
    PARAMETERS,
    WQI_BANDS,
    do_percent,
    do_saturation,
    parameter_q,
    wqi,
    wqi_band,
)
from ioc.measurements import dictionary

# DO_sat at 20 °C: 14.652 − 0.41022·20 + 0.0079910·400 − 0.000077774·8000
#                = 14.652 − 8.2044 + 3.1964 − 0.622192 = 9.021808 mg/L
DO_SAT_20 = 9.021808


def test_do_saturation_by_hand() -> None:
    assert do_saturation(0) == pytest.approx(14.652)
    assert do_saturation(20) == pytest.approx(DO_SAT_20)
    assert do_percent(DO_SAT_20, 20) == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        # pH: < 5.5 → 10; 5.5–6.0 rises 50 → 100; 6.0–8.5 → 100; 8.5–9.0 falls 100 → 50; > 9 → 10
        ("pH", 5.4, 10),
        ("pH", 5.5, 50),
        ("pH", 5.75, 75),  # 50 + (100−50)·(0.25/0.5)
        ("pH", 7.0, 100),
        ("pH", 8.75, 75),  # 100 + (50−100)·(0.25/0.5)
        ("pH", 9.0, 50),
        ("pH", 9.1, 10),
        # BOD5 4/6/15/25/50 → 100/75/50/25/10
        ("bod5", 3, 100),
        ("bod5", 5, 87.5),  # 100 + (75−100)·(1/2)
        ("bod5", 10, 75 - 25 * 4 / 9),  # 75 + (50−75)·(10−6)/(15−6) = 63.888…
        ("bod5", 50, 10),
        ("bod5", 80, 10),
        # COD 10/15/30/50/150
        ("cod", 20, 75 - 25 * 5 / 15),  # 75 + (50−75)·(20−15)/(30−15) = 66.666…
        ("cod", 100, 25 - 15 * 50 / 100),  # 25 + (10−25)·(100−50)/(150−50) = 17.5
        # TOC 4/6/15/25/50
        ("toc", 20, 37.5),  # 50 + (25−50)·(20−15)/(25−15)
        # N-NH4 0.3/0.3/0.6/0.9/5: 0.3 → 100, then the 75 → 50 segment
        ("nh4", 0.3, 100),
        ("nh4", 0.45, 62.5),  # 75 + (50−75)·(0.15/0.3)
        ("nh4", 3.0, 25 - 15 * 2.1 / 4.1),  # 25 + (10−25)·(3−0.9)/(5−0.9) = 17.317…
        # N-NO3 2/5/10/15/>15
        ("no3", 1, 100),
        ("no3", 12.5, 37.5),  # 50 + (25−50)·(2.5/5)
        ("no3", 15, 25),
        ("no3", 15.1, 10),
        # N-NO2 ≤ 0.05 → 100 else 10
        ("no2", 0.05, 100),
        ("no2", 0.06, 10),
        # P-PO4 0.1/0.2/0.3/0.5/4
        ("po4", 0.15, 87.5),  # 100 + (75−100)·(0.05/0.1)
        ("po4", 2.25, 17.5),  # 25 + (10−25)·(1.75/3.5)
        # Coliform 2500/5000/7500/10000/>10000 (MPN/100 mL)
        ("coliform", 6250, 62.5),  # 75 + (50−75)·(1250/2500)
        ("coliform", 10001, 10),
        # E. coli 20/50/100/200/>200
        ("ecoli", 35, 87.5),  # 100 + (75−100)·(15/30)
        ("ecoli", 300, 10),
    ],
)
def test_parameter_q_by_hand(field: str, value: float, expected: float) -> None:
    assert parameter_q(field, value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (10, 10),  # < 20 % → 10
        (20, 25),
        (60, 60),  # 50 + (75−50)·(60−50)/(75−50)
        (100, 100),  # 88–112 → 100
        (130, 70),  # 75 + (50−75)·(130−125)/(150−125)
        (200, 25),
        (250, 10),  # > 200 % → 10
    ],
)
def test_do_q_by_hand(percent: float, expected: float) -> None:
    # At 0 °C DO_sat = 14.652, so DO = 14.652·percent/100 mg/L.
    assert parameter_q("dissolvedOxygen", 14.652 * percent / 100, temperature_c=0) == pytest.approx(expected)


def test_parameter_q_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="temperature"):
        parameter_q("dissolvedOxygen", 7.0)
    with pytest.raises(ValueError, match="not a WQI parameter"):
        parameter_q("turbidity", 5.0)
    with pytest.raises(ValueError):
        parameter_q("bod5", -1.0)
    with pytest.raises(ValueError):
        parameter_q("bod5", math.nan)


# pH 8.75 → 75; IV: bod5 4 → 100, cod 15 → 75, toc 15 → 50, nh4 0.9 → 25 (mean 62.5);
# V: coliform 2500 → 100, ecoli 50 → 75 (mean 87.5). Unmeasured and non-index fields are ignored.
SAMPLE = {
    "pH": 8.75,
    "bod5": 4.0,
    "cod": 15.0,
    "toc": 15.0,
    "nh4": 0.9,
    "coliform": 2500.0,
    "ecoli": 50.0,
    "turbidity": 12.0,
    "po4": None,
}


def test_wqi_aggregate_by_hand() -> None:
    # 0.75 · √(62.5 · 87.5) = 0.75 · √5468.75 = 0.75 · 73.9510… = 55.463… → 55
    result = wqi(SAMPLE)
    assert result is not None
    assert result.value == pytest.approx(0.75 * math.sqrt(62.5 * 87.5))
    assert result.wqi == 55
    assert result.band.vi == "Trung bình"
    assert result.sub_indices == pytest.approx(
        {"pH": 75, "bod5": 100, "cod": 75, "toc": 50, "nh4": 25, "coliform": 100, "ecoli": 75}
    )


def test_wqi_without_group_v_and_the_cube_form() -> None:
    # Without group V: 0.75 · 62.5 = 46.875 → 47 (Xấu)
    no_v = wqi({k: v for k, v in SAMPLE.items() if k not in ("coliform", "ecoli")})
    assert no_v is not None and no_v.wqi == 47 and no_v.band.vi == "Xấu"
    # The alternative form: 0.75 · ∛(62.5² · 87.5) = 0.75 · ∛341796.875 = 0.75 · 69.918… = 52.438… → 52
    cube = wqi(SAMPLE, combination="cube")
    assert cube is not None
    assert cube.value == pytest.approx(0.75 * (62.5**2 * 87.5) ** (1 / 3))
    assert cube.wqi == 52


def test_wqi_needs_three_group_iv_parameters() -> None:
    assert wqi({"pH": 7.0, "bod5": 3.0, "cod": 5.0, "coliform": 100.0}) is None
    # DO counts only with a temperature: without it, two group IV parameters are not enough.
    assert wqi({"dissolvedOxygen": 8.0, "bod5": 3.0, "cod": 5.0}) is None
    # With it: DO 9.021808 at 20 °C = 100 % → 100; bod5, cod → 100; no pH (factor 1) → 100.
    full = wqi({"dissolvedOxygen": DO_SAT_20, "temperature": 20.0, "bod5": 3.0, "cod": 5.0})
    assert full is not None and full.wqi == 100 and full.band.vi == "Rất tốt"


def test_wqi_rounds_half_up() -> None:
    # Group IV only (factor 1, no group V): cod 10 → 100, toc 4 → 100, bod5 5 → 87.5,
    # no3 8.3 → 75 + (50−75)·(8.3−5)/(10−5) = 58.5; mean (100 + 100 + 87.5 + 58.5)/4 = 86.5 → 87.
    # Banker's rounding would give 86.
    result = wqi({"cod": 10.0, "toc": 4.0, "bod5": 5.0, "no3": 8.3})
    assert result is not None
    assert result.value == pytest.approx(86.5)
    assert result.wqi == 87
    assert wqi_band(50.5).vi == "Trung bình"  # 50.5 → 51 (half up), not 50 (Xấu)


def test_bands() -> None:
    edges = {100: "Rất tốt", 91: "Rất tốt", 90: "Tốt", 76: "Tốt", 75: "Trung bình", 51: "Trung bình"}
    edges |= {50: "Xấu", 26: "Xấu", 25: "Kém", 10: "Kém", 9: "Ô nhiễm rất nặng", 0: "Ô nhiễm rất nặng"}
    for value, label in edges.items():
        assert wqi_band(value).vi == label, value
    assert WQI_BANDS[0].rgb == (51, 51, 255) and WQI_BANDS[-1].rgb == (126, 0, 35)


def test_fields_come_from_the_dictionary() -> None:
    water = set(dictionary()["water_quality"].fields)
    requested = {"no2", "ecoli"}  # not yet in ioc/measurements.yaml; asked of the lead
    assert {p.field for p in PARAMETERS} - requested <= water
    assert "temperature" in water
    assert "wqi" in dictionary()["wqi"].fields
