"""Plausible readings of every measurement the wall shows, for a city config, so the wall can be
checked (and shown) before every producer exists: ``traffic_flow``, ``camera_health``, ``aqi``,
``wqi`` and ``alerts`` have no producer in the repo yet.

Values are what a pilot city sees on an ordinary day: PM2.5 in the tens of µg/m³ (one station in
the "Kém" band), a lake at class B, a controller that reports a conflict in the last minutes, one
truck in six overloaded, one gateway whose uplink is down with a growing backlog, one camera
offline. AQI and WQI are computed from the generated readings with cloud/indices, not invented.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator

from cloud.indices.aqi import hourly_aqi
from cloud.indices.wqi import wqi
from ioc.config import CityConfig, Device, Gateway
from ioc.reading import Reading

S = 1_000_000_000  # ns per second
HOUR = 3600 * S


def readings(config: CityConfig, now_ns: int | None = None, seed: int = 7) -> list[Reading]:
    now = now_ns or time.time_ns()
    rng = random.Random(seed)
    out: list[Reading] = []
    for n, (gateway, device) in enumerate(config.devices()):
        site = config.site(config.device_site(gateway, device))
        tags = {"city": config.city.id, "site": site.id, "gateway": gateway.id, "device": device.id}
        polluted = n % 3 == 0  # every third air device sits at a busy junction
        make = {"air": _air, "water": _water, "weigh": _weighings, "traffic": _signals}.get(site.kind)
        if make:
            out.extend(make(tags, device, now, rng, polluted))
    for site in config.sites:
        tags = {
            "city": config.city.id,
            "site": site.id,
            "gateway": _gateway_of(config, site.id),
            "device": "-",
        }
        derived = dict(tags, gateway="cloud")  # the tags cloud/derive/indices.py gives indices
        if site.kind == "air":
            out.extend(_aqi(dict(derived, device="aqi"), out, site.id, now))
        elif site.kind == "water":
            out.extend(_wqi(dict(derived, device="wqi"), out, site.id, now))
        elif site.kind == "traffic":
            out.extend(_flow_and_cameras(tags, now, rng))
    out.extend(_gateways(config, now, rng))
    out.extend(_alerts_and_rejects(config, now))
    return out


def _gateway_of(config: CityConfig, site: str) -> str:
    return next((g.id for g in config.gateways if g.site == site), config.gateways[0].id)


def _air(
    tags: dict[str, str], device: Device, now: int, rng: random.Random, polluted: bool
) -> Iterator[Reading]:
    gases = "modbus" in device.family
    for i in range(24 * 12):  # every 5 minutes for 24 h
        t = now - i * 300 * S - 5 * S
        daily = 1 + 0.4 * math.sin(2 * math.pi * t / (24 * HOUR))
        if gases:
            fields = {
                "so2": round(40 * daily + rng.uniform(0, 10), 1),
                "no2": round(60 * daily + rng.uniform(0, 30), 1),
                "o3": round(80 * daily + rng.uniform(0, 20), 1),
                "co": round(2500 * daily + rng.uniform(0, 800), 1),
                "temperature": round(26 + 4 * daily, 1),
                "relativeHumidity": round(70 - 10 * daily, 1),
            }
        else:
            base = 70 if polluted else 22
            pm25 = round(base * daily + rng.uniform(0, 8), 1)
            fields = {"pm25": pm25, "pm10": round(pm25 * 1.6, 1)}
        yield Reading("air_quality", tags, fields, t)


def _aqi(tags: dict[str, str], made: list[Reading], site: str, now: int) -> Iterator[Reading]:
    """Hourly VN_AQI from the generated PM2.5/PM10 hourly means, with the real NowCast."""
    means: dict[str, list[list[float]]] = {"pm25": [[] for _ in range(36)], "pm10": [[] for _ in range(36)]}
    for r in made:
        if r.measurement == "air_quality" and r.tags["site"] == site:
            hour = (now - r.time_ns) // HOUR
            for pollutant, hours in means.items():
                if pollutant in r.fields and hour < 36:
                    hours[hour].append(float(r.fields[pollutant]))  # type: ignore[arg-type]
    hourly = {p: [sum(h) / len(h) if h else None for h in hs] for p, hs in means.items()}
    for hour in range(24):
        result = hourly_aqi({p: v[hour : hour + 12] for p, v in hourly.items()})
        if result:
            fields = {"aqi": result.aqi, "dominant": result.dominant, **result.rounded()}
            yield Reading("aqi", dict(tags, kind="hourly"), fields, (now // HOUR - hour) * HOUR)


def _water(tags: dict[str, str], device: Device, now: int, rng: random.Random, _: bool) -> Iterator[Reading]:
    for i in range(24 * 4):  # every 15 minutes for 24 h
        t = now - i * 900 * S - 10 * S
        fields: dict[str, float] = {
            "temperature": round(27 + rng.uniform(-1, 1), 2),
            "pH": round(7.1 + rng.uniform(-0.3, 0.3), 2),
        }
        fields["dissolvedOxygen"] = round(5.6 + rng.uniform(-0.5, 0.5), 2)
        if device.family == "tt10":
            fields |= {"bod5": round(5 + rng.uniform(-1, 1), 2), "cod": round(13 + rng.uniform(-2, 2), 2)}
            fields |= {"tss": round(40 + rng.uniform(-10, 10), 1), "nh4": round(0.2 + rng.uniform(0, 0.2), 3)}
            fields |= {
                "no2": round(0.03 + rng.uniform(0, 0.03), 3),
                "no3": 1.2,
                "po4": 0.15,
                "coliform": 3000,
            }
        else:
            fields |= {
                "turbidity": round(18 + rng.uniform(-5, 5), 1),
                "conductivity": round(240 + rng.uniform(-20, 20), 1),
            }
        # The station file reports "01 calibrating" for its latest transmission (Thông tư 10/2021).
        quality = "calibrating" if device.family == "tt10" and i == 0 else "good"
        yield Reading("water_quality", tags, fields, t, quality)  # type: ignore[arg-type]


def _wqi(tags: dict[str, str], made: list[Reading], site: str, now: int) -> Iterator[Reading]:
    for hour in range(24):
        sample: dict[str, float | None] = {}
        for r in made:
            if (
                r.measurement == "water_quality"
                and r.tags["site"] == site
                and (now - r.time_ns) // HOUR == hour
            ):
                sample |= {k: float(v) for k, v in r.fields.items() if isinstance(v, int | float)}
        result = wqi(sample)
        if result:
            yield Reading("wqi", tags, {"wqi": result.wqi}, (now // HOUR - hour) * HOUR)


def _weighings(
    tags: dict[str, str], device: Device, now: int, rng: random.Random, _: bool
) -> Iterator[Reading]:
    permitted = float(device.options.get("permitted_gross_kg", 34000))
    for i in range(24 * 15):  # a truck every 4 minutes for 24 h, the latest one a second ago
        gross = round(permitted * (1.18 if i % 6 == 0 else rng.uniform(0.35, 0.98)), -1)
        pct = round(max(0.0, (gross / permitted - 1) * 100), 1)
        fields = {"gross_kg": gross, "permitted_kg": permitted, "stable": True, "overload": pct > 0}
        fields |= {
            "overload_pct": pct,
            "sequence": 100_000 - i,
            "record_hash": f"{i:064x}",
            "prev_hash": f"{i + 1:064x}",
        }
        yield Reading("weighing", tags, fields, now - i * 240 * S - S)


def _signals(
    tags: dict[str, str], device: Device, now: int, rng: random.Random, _: bool
) -> Iterator[Reading]:
    phases = [int(p) for p in device.options.get("phases", [2, 4, 6, 8])]
    for i in range(0, 20 * 60, 2):  # every 2 s for 20 minutes, a 60 s cycle
        t = now - i * S
        second = (t // S) % 60
        main = "green" if second < 27 else "yellow" if second < 30 else "red"
        side = "green" if 30 <= second < 57 else "yellow" if second >= 57 else "red"
        conflict = i < 30  # the conflict monitor has reported a conflict for the last 30 s
        for phase in phases:
            state = main if phase in (2, 6) else side
            if conflict and phase == phases[1]:
                state = "green"
            yield Reading(
                "traffic_signal", dict(tags, signal_group=str(phase)), {"state": state, "mode": "auto"}, t
            )
        fault = 1 if conflict else 0
        fields = {
            "fault": fault,
            "conflict": conflict,
            "conflict_groups": f"{phases[0]}+{phases[1]}" if conflict else "",
        }
        yield Reading(
            "traffic_signal", dict(tags, signal_group="controller"), {**fields, "mode": "auto", "plan": 3}, t
        )


def _flow_and_cameras(tags: dict[str, str], now: int, rng: random.Random) -> Iterator[Reading]:
    """traffic_flow and camera_health have no producer yet: a counting camera per approach."""
    for lane, direction in (("1", "in"), ("2", "in"), ("1", "out")):
        lane_tags = dict(tags, device=f"{tags['site']}-cam1", lane=lane, direction=direction)
        for i in range(6 * 60):
            fields = {
                "intensity": rng.randint(5, 40),
                "occupancy": round(rng.uniform(5, 60), 1),
                "interval_s": 60,
            }
            yield Reading("traffic_flow", lane_tags, fields, now - i * 60 * S - 3 * S)
    for n, state in enumerate(("ok", "defocused", "offline")):
        cam = dict(tags, device=f"{tags['site']}-cam{n + 1}")
        for i in range(90):  # every 10 s for 15 minutes
            online = state != "offline"
            fps = 15.0 if online else 0.0
            fields = {"state": state, "online": online, "camera_fps": fps, "process_fps": fps / 3}
            fields |= {"skipped_fps": 0.0, "reconnects": 3 * n + (90 - i) // 30}
            yield Reading("camera_health", cam, fields, now - i * 10 * S - 2 * S)


def _gateways(config: CityConfig, now: int, rng: random.Random) -> Iterator[Reading]:
    for g, gateway in enumerate(config.gateways):
        down = g == len(config.gateways) - 1  # the last gateway's uplink is down
        agent = {"city": config.city.id, "site": gateway.site, "gateway": gateway.id, "device": "agent"}
        for i in range(24 * 30):  # every 2 minutes for 24 h, the latest 5 s ago
            t, age = now - i * 120 * S - 5 * S, 24 * 30 - i
            lag = float(600 - i * 120) if down and i < 5 else round(rng.uniform(0, 2), 1)
            fields = {"buffer_depth": int(lag * 4), "oldest_unsent_s": max(lag, 0.0), "produced": age * 500}
            fields |= {"dropped": age // 100 if down else 0, "uplink_connected": not (down and i < 5)}
            fields |= {"cpu_pct": round(rng.uniform(3, 20), 1), "rss_mb": 85.0, "disk_free_mb": 12000.0}
            fields |= {"clock_offset_s": 0.002 if g else 2.4}  # the first gateway's RTC drifted
            fields |= {"events_unpublished": 0, "snapshots_lost": age // 300 if down else 0}
            yield Reading("gateway", agent, fields, t)
            yield from _device_health(config, gateway, age, t)


def _device_health(config: CityConfig, gateway: Gateway, age: int, t: int) -> Iterator[Reading]:
    for k, device in enumerate(gateway.devices):
        tags = {"city": config.city.id, "site": gateway.site, "gateway": gateway.id, "device": device.id}
        yield Reading("gateway", tags, {"produced": age * 100, "dropped": 0}, t + k + 1)


def _alerts_and_rejects(config: CityConfig, now: int) -> Iterator[Reading]:
    """alerts has no producer yet; ingest_rejects comes from cloud ingest."""
    site = config.sites[0].id
    tags = {"city": config.city.id, "site": site, "gateway": config.gateways[0].id, "device": "-"}
    alert = {"rule": "pm25_1h_limit", "severity": "warning"}
    yield Reading(
        "alerts",
        dict(tags, **alert),
        {"firing": True, "value": 71.5, "message": "PM2.5 > QCVN 05"},
        now - 600 * S,
    )
    yield Reading(
        "alerts",
        dict(tags, rule="gateway_offline", severity="critical"),
        {"firing": False, "value": 0.0, "message": "back online"},
        now - 3000 * S,
    )
    reject = {"reason": "range: pm25=-3 below 0", "count": 1}
    yield Reading("ingest_rejects", dict(tags, site="-"), reject, now - 2 * S)
    yield Reading(
        "ingest_rejects",
        {"city": "-", "site": "-", "gateway": "-", "device": "-"},
        {"reason": "topic: bad level", "count": 1},
        now - S,
    )
