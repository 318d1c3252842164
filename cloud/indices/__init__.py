"""Derived indices: VN_AQI (QĐ 1459/QĐ-TCMT) and VN_WQI (QĐ 1460/QĐ-TCMT, unconfirmed).

Pure functions over plain numbers; no I/O except the CSV tool in :mod:`cloud.indices.aqi_csv`.
"""

from cloud.indices.aqi import (
    AQI_BANDS,
    Band,
    DailyAqi,
    HourlyAqi,
    band,
    daily_aqi,
    hourly_aqi,
    round_half_up,
    sub_index,
)
from cloud.indices.nowcast import nowcast
from cloud.indices.wqi import WQI_BANDS, WqiResult, wqi, wqi_band

__all__ = [
    "AQI_BANDS",
    "WQI_BANDS",
    "Band",
    "DailyAqi",
    "HourlyAqi",
    "WqiResult",
    "band",
    "daily_aqi",
    "hourly_aqi",
    "nowcast",
    "round_half_up",
    "sub_index",
    "wqi",
    "wqi_band",
]
