"""Station files (Thông tư 10/2021/TT-BTNMT style) → samples, with a reason for everything refused.

``parse_file(name, data)`` never raises on any name or bytes. File-level problems (name, encoding,
size, station) reject the whole file as line 0; line problems reject just that line.
"""

from __future__ import annotations

import codecs
import collections
import math
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from firmware_bridge.registry import Sample
from firmware_bridge.tt10.options import Tt10Options
from firmware_bridge.tt10.params import ParamTable
from firmware_bridge.tt10.timeparse import DATE, TIME, looks_like_datetime, parse_datetime
from ioc.reading import FieldValue, Quality, now_ns

NAME_PATTERN = "<Province>_<Facility>_<Station>_<yyyyMMddHHmmss>.txt"
_NAME = re.compile(r"(?P<province>[^_]+)_(?P<facility>.+)_(?P<station>[^_]+)_(?P<time>\d{14})\.txt", re.I)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_STATUS = re.compile(r"\d{1,2}")

MAX_FILE_BYTES = 1 << 20  # a transmission is a few dozen lines; anything this big is not a station file
MAX_LINES = 5000
MAX_LINE_CHARS = 500
FUTURE_TOLERANCE_S = 3600  # datalogger clocks drift; an hour ahead of the gateway is a wrong clock
QUALITY: dict[int, Quality] = {0: "good", 1: "calibrating", 2: "device_error"}
# C0 controls other than whitespace mean binary, not a text file (a trailing DOS ^Z is tolerated).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class FileName:
    province: str
    facility: str
    station: str
    local_time: datetime  # as written in the name, without a zone
    time_ns: int


@dataclass
class ParseResult:
    samples: list[Sample] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line number, why); 0 = the whole file
    dropped: collections.Counter[str] = field(default_factory=collections.Counter)  # short reason codes
    name: FileName | None = None
    lines_ok: int = 0

    @property
    def file_rejected(self) -> bool:
        """True when the file as a whole was refused (bad name, not text, too large, other station)."""
        return any(line == 0 for line, _ in self.rejects)

    def reject(self, line_no: int, code: str, reason: str) -> None:
        self.rejects.append((line_no, reason))
        self.dropped[code] += 1

    def reason_text(self) -> str:
        """What a technician reads in ``<file>.reason.txt``."""
        return "".join(f"{'file' if n == 0 else f'line {n}'}: {why}\n" for n, why in self.rejects)


class _LineError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True, slots=True)
class _Line:
    field: str
    value: float
    time_ns: int
    quality: Quality


class Tt10Parser:
    """Parses files for one device's options; build once and reuse (it resolves the name tables)."""

    def __init__(self, options: Tt10Options | None = None) -> None:
        self.options = options or Tt10Options()
        self.table = ParamTable(self.options)
        self.tz = zoneinfo.ZoneInfo(self.options.timezone)

    def parse_name(self, name: str) -> FileName | str:
        """The parts of a file name, or why it does not fit ``NAME_PATTERN``."""
        match = _NAME.fullmatch(name)
        if match is None:
            return f"file name {name!r} does not match {NAME_PATTERN}"
        stamp = match["time"]
        try:
            local, time_ns = parse_datetime([stamp], self.tz)
        except ValueError:
            return f"time {stamp!r} in file name {name!r} is not a valid yyyyMMddHHmmss"
        return FileName(match["province"], match["facility"], match["station"], local, time_ns)

    def parse(self, name: str, data: bytes, now: int | None = None) -> ParseResult:
        """Parse one file; ``name`` may be a path (only its last part counts), ``now`` is in ns."""
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
        result = ParseResult()
        try:
            self._parse(name, data, now_ns() if now is None else now, result)
        except Exception as exc:  # a codec must never take the gateway down; say what happened instead
            result.samples.clear()
            result.reject(0, "internal_error", f"parser error {type(exc).__name__}: {exc}")
        return result

    def _parse(self, name: str, data: bytes, now: int, result: ParseResult) -> None:
        parsed = self.parse_name(name)
        if isinstance(parsed, str):
            return result.reject(0, "bad_name", parsed)
        result.name = parsed
        station = self.options.station
        if station is not None and not _same_station(parsed, station):
            return result.reject(
                0, "wrong_station", f"station {parsed.station!r} is not this device's {station!r}"
            )
        if len(data) > MAX_FILE_BYTES:
            return result.reject(0, "too_large", f"{len(data)} bytes, more than {MAX_FILE_BYTES}")
        text = _decode(data)
        if text is None:
            return result.reject(0, "not_text", "not a text file (binary data or an unknown encoding)")
        lines = text.split("\n") if "\n" in text else text.split("\r")
        if lines[-1] == "":
            lines.pop()  # the final line end does not start another line
        if len(lines) > MAX_LINES:
            result.reject(
                MAX_LINES + 1, "too_many_lines", f"more than {MAX_LINES} lines; the rest is ignored"
            )
            lines = lines[:MAX_LINES]
        groups: dict[tuple[int, Quality], dict[str, FieldValue]] = {}
        seen: dict[tuple[int, Quality, str], int] = {}
        for line_no, raw in enumerate(lines, start=1):
            content = raw.split("#", 1)[0].strip()
            if not content:
                continue
            try:
                line = self._line(content, now)
            except _LineError as err:
                result.reject(line_no, err.code, err.reason)
                continue
            if line is None:
                result.dropped["ignored_param"] += 1
                continue
            key = (line.time_ns, line.quality, line.field)
            if key in seen:
                result.reject(
                    line_no, "duplicate", f"{line.field} for this time and status is on line {seen[key]}"
                )
                continue
            seen[key] = line_no
            groups.setdefault((line.time_ns, line.quality), {})[line.field] = line.value
            result.lines_ok += 1
        measurement = self.options.measurement
        for (time_ns, quality), fields in sorted(groups.items(), key=lambda item: item[0][0]):
            result.samples.append(Sample(fields, measurement=measurement, time_ns=time_ns, quality=quality))
        if not result.samples and not result.rejects:
            result.reject(0, "empty", "no measurement lines")
        return None

    def _line(self, content: str, now: int) -> _Line | None:
        if len(content) > MAX_LINE_CHARS:
            raise _LineError("line_too_long", f"longer than {MAX_LINE_CHARS} characters")
        body, stamp, status = _split(content.split())
        value_at = next((i for i in range(1, len(body)) if _NUMBER.fullmatch(body[i])), None)
        if value_at is None:
            known = next(
                (k for k in range(len(body) - 1, 0, -1) if self.table.lookup(" ".join(body[:k]))), None
            )
            if known is None:
                raise self._unknown(body[0])
            raise _LineError(
                "bad_value", f"value {body[known]!r} of {' '.join(body[:known])} is not a number"
            )
        name, unit = " ".join(body[:value_at]), " ".join(body[value_at + 1 :])
        if self.table.ignored(name):
            return None
        param = self.table.lookup(name)
        if param is None:
            raise self._unknown(name)
        value = float(body[value_at].replace(",", "."))
        if not math.isfinite(value):
            raise _LineError("bad_value", f"value {body[value_at]!r} of {name} is not a finite number")
        if unit:
            factor = self.table.factor(param.field, unit)
            if factor is None:
                raise _LineError(
                    "bad_unit",
                    f"unit {unit!r} of {name} is not {param.spec.unit} and has no known conversion "
                    f"(add it to options.unit_map.{param.field})",
                )
            if factor != 1.0:
                value = float(f"{value * factor:.12g}")  # 0.05 mg/m³ → 50 µg/m³, not 50.00000000000001
        try:
            _, time_ns = parse_datetime(stamp, self.tz)
        except ValueError as exc:
            raise _LineError("bad_datetime", str(exc)) from None
        if time_ns > now + FUTURE_TOLERANCE_S * 1_000_000_000:
            ahead_h = (time_ns - now) / 3.6e12
            raise _LineError("future_datetime", f"time {' '.join(stamp)} is {ahead_h:.1f} h in the future")
        quality = QUALITY.get(int(status)) if _STATUS.fullmatch(status) else None
        if quality is None:
            raise _LineError(
                "unknown_status",
                f"unknown status code {status!r} (00 measuring, 01 calibrating, 02 device error)",
            )
        low, high = param.spec.min, param.spec.max
        if (low is not None and value < low) or (high is not None and value > high):
            raise _LineError(
                "out_of_range", f"{name} = {value:g} {param.spec.unit} is outside the plausible {low}..{high}"
            )
        return _Line(param.field, value, time_ns, quality)

    def _unknown(self, name: str) -> _LineError:
        close = self.table.suggest(name)
        hint = f"; did you mean {close!r}?" if close else " (map it in options.param_map)"
        return _LineError("unknown_param", f"unknown parameter {name!r} for {self.table.measurement}{hint}")


def _split(tokens: list[str]) -> tuple[list[str], list[str], str]:
    """(param/value/unit tokens, datetime tokens, status) for either layout:
    ``param value [unit] datetime status`` or ``datetime param value [unit] status``."""
    if tokens and tokens[0][:1].isdigit():
        n = 2 if len(tokens) > 1 and DATE.fullmatch(tokens[0]) and TIME.fullmatch(tokens[1]) else 1
        stamp, rest = tokens[:n], tokens[n:]
        if len(rest) < 3:
            raise _LineError("too_few_fields", _too_few(rest, status_missing=len(rest) == 2))
        return rest[:-1], stamp, rest[-1]
    if len(tokens) >= 2 and looks_like_datetime(tokens[-1]):
        raise _LineError("missing_status", "no status code after the datetime (00, 01 or 02)")
    n = 2 if len(tokens) > 2 and DATE.fullmatch(tokens[-3]) and TIME.fullmatch(tokens[-2]) else 1
    if len(tokens) < n + 3:
        raise _LineError("too_few_fields", _too_few(tokens, status_missing=False))
    return tokens[: -1 - n], tokens[-1 - n : -1], tokens[-1]


def _too_few(tokens: list[str], status_missing: bool) -> str:
    if status_missing:
        return "no status code at the end of the line (00, 01 or 02)"
    return f"expected '<param> <value> <unit> <yyyyMMddHHmmss> <status>', got {len(tokens)} field(s)"


def _same_station(name: FileName, station: str) -> bool:
    # A station code may itself contain '_' (NUOC_01); the name pattern then puts part of it in facility.
    full, wanted = f"{name.facility}_{name.station}".casefold(), station.casefold()
    return full == wanted or full.endswith("_" + wanted)


def _decode(data: bytes) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        data = data.removeprefix(codecs.BOM_UTF8)
        # Vietnamese Windows dataloggers that do not write UTF-8 write Windows-1258.
        candidates = ["utf-8", "cp1258"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = text.removeprefix("\ufeff").rstrip("\x1a")
        # NFC: Windows-1258 writes tone marks as combining characters; reasons should read as typed.
        return None if _CONTROL.search(text) else unicodedata.normalize("NFC", text)
    return None


_DEFAULT: Tt10Parser | None = None


def parse_file(
    name: str, data: bytes, options: Tt10Options | None = None, *, now: int | None = None
) -> ParseResult:
    """Parse one station file. ``name`` is its name or path; ``now`` (ns) bounds future times."""
    global _DEFAULT
    if options is None:
        _DEFAULT = _DEFAULT or Tt10Parser()
        return _DEFAULT.parse(name, data, now)
    return Tt10Parser(options).parse(name, data, now)
