"""Monitoring-station data back out as Thông tư 10/2021-style files, for the environment department.

One file per second that has readings, named ``<Province>_<Facility>_<Station>_<yyyyMMddHHmmss>.txt``,
one line per parameter: ``<param> <value> <unit> <yyyyMMddHHmmss> <status>`` in the city's local
time, UTF-8, CRLF. The layout is the one firmware_bridge/tt10 reads (its README; the format itself
is unconfirmed, standards.md §4), so an exported file parses back to the same values.

Our choices:
- Parameter names are the first built-in station name of each field (``PM2.5``, ``DO``, ``Temp``);
  fields without one go out under their dictionary name, which the parser also reads.
- Status from the reading's quality: good → 00, calibrating → 01, device_error → 02; and, since the
  format has no more codes, uncertain → 00 (a measurement, flagged by us), maintenance → 01 (not
  measuring the environment), bad → 02.
- Times are whole seconds: readings within one second share a file, and where two carry the same
  parameter and status the later one is kept (counted in ``collapsed``).
- Values are written in plain decimal notation with as many digits as the stored float needs.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cloud.derive.clock import LocalClock, chunks
from cloud.influx_query import InfluxQuery, quote_ident, quote_literal
from firmware_bridge.tt10.params import BUILTIN_PARAMS
from ioc.config import CityConfig
from ioc.measurements import dictionary
from ioc.reading import IDENTITY_TAGS

STATUS: dict[str, str] = {
    "good": "00",
    "uncertain": "00",
    "calibrating": "01",
    "maintenance": "01",
    "device_error": "02",
    "bad": "02",
}
MEASUREMENT_OF_KIND = {"air": "air_quality", "water": "water_quality"}
_NS = 10**9


class ExportError(ValueError):
    """Bad arguments (unknown site, bad station code), with the reason."""


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    lines: int = 0
    collapsed: int = 0


def station_names(measurement: str) -> dict[str, str]:
    """Dictionary field → the station parameter name written for it."""
    names: dict[str, str] = {}
    for display, name in BUILTIN_PARAMS.get(measurement, {}).items():
        names.setdefault(name, display)
    return {f: names.get(f, f) for f in dictionary()[measurement].fields}


def _initials(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "".join(word[0] for word in plain.split() if word[0].isalnum()).upper()


def default_codes(config: CityConfig, site: str) -> tuple[str, str, str]:
    """(province, facility, station) for file names: the province's initials (Lạng Sơn → LS), the
    city id, and the station code of a tt10 device at the site (``options.station``), else the site id."""
    station = next(
        (
            str(d.options["station"])
            for g, d in config.devices()
            if d.family == "tt10" and config.device_site(g, d) == site and d.options.get("station")
        ),
        site,
    )
    return _initials(config.city.province) or "VN", config.city.id.upper(), station.upper()


def _check_code(kind: str, code: str, underscore_ok: bool) -> None:
    bad = [c for c in code if c.isspace() or c in "/\\" or (c == "_" and not underscore_ok)]
    if not code or bad:
        allowed = "" if underscore_ok else ", '_' (it separates the name's parts)"
        raise ExportError(f"{kind} code {code!r} cannot go into a file name: no spaces, '/', '\\'{allowed}")


def _measurement(config: CityConfig, site: str, measurement: str | None) -> str:
    ids = [s.id for s in config.sites]
    if site not in ids:
        raise ExportError(f"no site {site!r} in city {config.city.id!r}; sites: {', '.join(ids)}")
    if measurement is not None:
        if measurement not in MEASUREMENT_OF_KIND.values():
            raise ExportError(f"measurement must be air_quality or water_quality, not {measurement!r}")
        return measurement
    kind = config.site(site).kind
    if kind not in MEASUREMENT_OF_KIND:
        raise ExportError(f"site {site!r} is a {kind} site; say which measurement to export")
    return MEASUREMENT_OF_KIND[kind]


def _number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(float(value))), "f")


def _write_file(path: Path, lines: list[str]) -> None:
    # Written beside and renamed: whatever picks the folder up never sees half a file.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes("".join(line + "\r\n" for line in lines).encode("utf-8"))
    os.replace(temporary, path)


def export_tt10(
    query: InfluxQuery,
    city_config: CityConfig,
    station_site: str,
    start_ns: int,
    end_ns: int,
    out_dir: str | os.PathLike[str],
    *,
    measurement: str | None = None,
    codes: tuple[str, str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the readings of ``station_site`` in [start_ns, end_ns) as station files into ``out_dir``
    (created if missing; files of the same name are replaced). ``codes``: (province, facility,
    station) for the names, default :func:`default_codes`."""
    if end_ns <= start_ns:
        raise ExportError("the end of the range must be after its start")
    measurement = _measurement(city_config, station_site, measurement)
    province, facility, station = codes or default_codes(city_config, station_site)
    _check_code("province", province, underscore_ok=False)
    _check_code("facility", facility, underscore_ok=True)
    # The parser finds a station code with '_' in it (NUOC_01) at the end of the facility part.
    _check_code("station", station, underscore_ok=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = station_names(measurement)
    units = {f: spec.unit for f, spec in dictionary()[measurement].fields.items()}
    clock = LocalClock(city_config.city.timezone)
    result = ExportResult()
    parts = chunks(clock, start_ns, end_ns, days=1)
    for i, (a, b) in enumerate(parts, start=1):
        q = (
            f"SELECT * FROM {quote_ident(measurement)} WHERE city = {quote_literal(city_config.city.id)}"
            f" AND site = {quote_literal(station_site)} AND time >= {a} AND time < {b}"
        )
        by_second: dict[int, dict[tuple[str, str], Any]] = {}
        for row in sorted(query.rows(q), key=lambda r: int(r["time"])):
            status = STATUS.get(row.get("quality") or "good", "00")
            values = by_second.setdefault(int(row["time"]) // _NS, {})
            for name, value in row.items():
                if name in names and name not in IDENTITY_TAGS and value is not None:
                    result.collapsed += (name, status) in values
                    values[(name, status)] = value
        for second, values in sorted(by_second.items()):
            stamp = clock.local(second * _NS).strftime("%Y%m%d%H%M%S")
            lines = [
                " ".join(p for p in (names[f], _number(v), units[f], stamp, status) if p)
                for (f, status), v in sorted(values.items())
            ]
            path = out / f"{province}_{facility}_{station}_{stamp}.txt"
            _write_file(path, lines)
            result.files.append(path)
            result.lines += len(lines)
        if progress is not None:
            progress(i, len(parts))
    return result
