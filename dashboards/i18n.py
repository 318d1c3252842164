"""Wall labels in Vietnamese (operators) or English (vendors, auditors): one table, key → (vi, en).

Band labels (AQI, WQI) are not here: they come from cloud/indices with the bands themselves.
"""

from __future__ import annotations

from typing import Final

LOCALES: Final = ("vi", "en")

_LABELS: Final[dict[str, tuple[str, str]]] = {
    "city": ("Thành phố", "City"),
    "site": ("Trạm", "Site"),
    "wall": ("Màn hình IOC", "IOC wall"),
    # 1 overview
    "overview": ("Tổng quan thành phố", "City overview"),
    "stations_online": ("Trạm quan trắc hoạt động", "Stations online"),
    "cameras_healthy": ("Camera hoạt động tốt", "Cameras healthy"),
    "signals_in_fault": ("Đèn tín hiệu đang lỗi", "Signals in fault"),
    "overloaded_today": ("Xe quá tải hôm nay", "Overloaded trucks today"),
    "completeness": ("Độ đầy đủ dữ liệu (24 giờ)", "Data completeness (24 h)"),
    "firing_alerts": ("Cảnh báo đang kích hoạt", "Firing alerts"),
    "map": ("Bản đồ trạm", "Site map"),
    "aqi_now": ("AQI hiện tại", "AQI now"),
    "alerts_recent": ("Cảnh báo gần đây", "Recent alerts"),
    # 2 air
    "air": ("Chất lượng không khí", "Air quality"),
    "aqi_station": ("AQI giờ theo trạm", "Hourly AQI per station"),
    "aqi_band": ("Mức chất lượng không khí", "Air quality category"),
    "aqi_legend": ("Thang VN_AQI (QĐ 1459/QĐ-TCMT)", "VN_AQI scale (QĐ 1459/QĐ-TCMT)"),
    "aqi_trend": ("Diễn biến AQI giờ", "Hourly AQI trend"),
    "pm_trend": ("Bụi PM2.5 và PM10", "PM2.5 and PM10"),
    "limits_1h": ("% giới hạn QCVN 05:2023 — trung bình 1 giờ", "% of QCVN 05:2023 limits — 1-hour means"),
    "limits_24h": ("% giới hạn QCVN 05:2023 — trung bình 24 giờ", "% of QCVN 05:2023 limits — 24-hour means"),
    # 3 water
    "water": ("Chất lượng nước", "Water quality"),
    "wqi_station": ("WQI theo trạm", "WQI per station"),
    "wqi_legend": ("Thang VN_WQI (QĐ 1460/QĐ-TCMT)", "VN_WQI scale (QĐ 1460/QĐ-TCMT)"),
    "station_status": ("Trạng thái trạm", "Station status"),
    "water_limits": (
        "Thông số so với QCVN 08:2023 — A xanh, B vàng, C cam, vượt C đỏ",
        "Parameters against QCVN 08:2023 — A green, B yellow, C orange, beyond C red",
    ),
    "wqi_trend": ("Diễn biến WQI", "WQI trend"),
    "do_ph_trend": ("Oxy hoà tan (mg/L) và pH", "Dissolved oxygen (mg/L) and pH"),
    "good": ("Đang đo", "Measuring"),
    "calibrating": ("Đang hiệu chuẩn", "Calibrating"),
    "device_error": ("Lỗi thiết bị", "Device error"),
    "maintenance": ("Bảo trì", "Maintenance"),
    "uncertain": ("Chưa chắc chắn", "Uncertain"),
    "bad": ("Dữ liệu lỗi", "Bad data"),
    # 4 signals
    "signals": ("Đèn tín hiệu giao thông", "Traffic signals"),
    "controllers": ("Tủ điều khiển — lỗi và xung đột trước", "Controllers — faults and conflicts first"),
    "in_fault": ("Tủ đang lỗi", "Controllers in fault"),
    "conflicts": ("Xung đột pha", "Phase conflicts"),
    "timeline": ("Trạng thái theo nút giao và nhóm đèn", "State per intersection and signal group"),
    "red": ("Đỏ", "Red"),
    "yellow": ("Vàng", "Yellow"),
    "green": ("Xanh", "Green"),
    "dark": ("Tắt", "Dark"),
    "flashing": ("Nhấp nháy", "Flashing"),
    "ok": ("Bình thường", "OK"),
    "fault": ("Mã lỗi", "Fault"),
    "conflict": ("Xung đột", "Conflict"),
    "fault_conflict": ("Xung đột pha", "Phase conflict"),
    "fault_inconsistent": ("Trạng thái mâu thuẫn", "Inconsistent state"),
    "fault_alarm": ("Báo động", "Alarm"),
    "fault_flash": ("Nhấp nháy do lỗi", "Fault flash"),
    "fault_dark": ("Mất đèn", "Dark"),
    "fault_minor": ("Báo động nhẹ", "Minor alarm"),
    # 5 flow
    "flow": ("Lưu lượng giao thông", "Traffic flow"),
    "flow_counts": ("Số xe theo camera, làn và hướng", "Vehicles per camera, lane and direction"),
    "flow_totals": ("Tổng số xe theo làn và hướng", "Vehicle totals per lane and direction"),
    "occupancy": ("Độ chiếm dụng làn", "Lane occupancy"),
    # 6 weigh
    "weigh": ("Trạm kiểm tra tải trọng xe", "Weigh stations"),
    "weighings_today": ("Lượt cân hôm nay", "Weighings today"),
    "overload_rate": ("Tỉ lệ quá tải hôm nay", "Overload rate today"),
    "heaviest": ("Tổng trọng lượng lớn nhất hôm nay", "Heaviest gross today"),
    "overload_rate_trend": ("Tỉ lệ quá tải theo trạm", "Overload rate per station"),
    "weighings_per_interval": ("Lượt cân", "Weighings"),
    "worst": ("Xe quá tải nặng nhất hôm nay", "Worst overloads today"),
    # 7 cameras
    "cameras": ("Camera", "Cameras"),
    "cameras_online": ("Camera trực tuyến", "Cameras online"),
    "cameras_offline": ("Camera mất kết nối", "Cameras offline"),
    "camera_grid": ("Tình trạng từng camera", "Health of every camera"),
    "reconnects": ("Số lần kết nối lại (24 giờ)", "Reconnects (24 h)"),
    "camera_fps": ("Khung hình/giây và kết nối lại", "Frame rates and reconnects"),
    "cam_ok": ("Tốt", "OK"),
    "cam_frozen": ("Hình đứng", "Frozen"),
    "cam_black": ("Mất hình / bị che", "Black / covered"),
    "cam_overexposed": ("Cháy sáng", "Overexposed"),
    "cam_defocused": ("Mất nét", "Defocused"),
    "cam_moved": ("Bị xê dịch", "Moved"),
    "cam_stalled": ("Mất luồng", "Stalled"),
    "cam_offline": ("Mất kết nối", "Offline"),
    # 8 fleet
    "fleet": ("Thiết bị biên và dữ liệu", "Fleet and data"),
    "gateways_online": ("Gateway trực tuyến", "Gateways online"),
    "dropped_today": ("Bản ghi bỏ tại biên hôm nay", "Readings dropped at the edge today"),
    "rejects_today": ("Bản tin bị từ chối hôm nay", "Ingest rejects today"),
    "gateways": ("Gateway", "Gateways"),
    "buffer_depth": ("Bản ghi chờ gửi", "Buffer depth"),
    "oldest_unsent": ("Tuổi bản ghi chờ lâu nhất", "Oldest unsent age"),
    "clock_offset": ("Lệch đồng hồ", "Clock offset"),
    "completeness_device": ("Độ đầy đủ theo thiết bị (24 giờ)", "Completeness per device (24 h)"),
    "rejects": ("Bản tin bị từ chối gần đây", "Recent ingest rejects"),
    "no_producer": (
        "Chưa có thiết bị nào gửi số liệu này; bảng hiển thị ngay khi có.",
        "No device sends this yet; the panel fills as soon as one does.",
    ),
}


class Locale:
    def __init__(self, code: str) -> None:
        if code not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}, not {code!r}")
        self.code = code
        self._index = LOCALES.index(code)

    def t(self, key: str) -> str:
        return _LABELS[key][self._index]
