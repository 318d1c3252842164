"""A river station's datalogger: one Thông tư 10/2021-style file per interval into a folder (``sim.port``)."""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
import threading
import time
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from firmware_bridge.tt10.timeparse import local_to_ns
from ioc.reading import FieldValue, Quality

FAULTS = ("calibrating", "device_error", "garbage", "badname", "variant", "dropout")

# Station name, field, unit, low, high: a lowland river in Vietnam (QCVN 08 class B-C water).
PARAMS: tuple[tuple[str, str, str, float, float], ...] = (
    ("pH", "pH", "pH", 6.5, 8.0),
    ("Temp", "temperature", "°C", 24.0, 31.0),
    ("DO", "dissolvedOxygen", "mg/L", 4.0, 7.0),
    ("COD", "cod", "mg/L", 8.0, 25.0),
    ("BOD5", "bod5", "mg/L", 4.0, 12.0),
    ("TSS", "tss", "mg/L", 15.0, 80.0),
    ("NH4", "nh4", "mg/L", 0.1, 0.8),
)
# Hour of the daily peak: water warms into the afternoon; photosynthesis lifts DO and pH with it.
_PEAK_HOUR = {"temperature": 15.0, "dissolvedOxygen": 15.0, "pH": 16.0, "nh4": 4.0}
_ALIASES = {"Temp": ["Nhiet_do", "TEMP", "Nhiệt độ"], "NH4": ["N-NH4", "Amoni", "nh4"], "DO": ["do"]}
_STATUS: dict[Quality, str] = {"good": "00", "calibrating": "01", "device_error": "02"}
_GARBAGE = (
    "XYZ 1.5 mg/L {t} 00",  # unknown parameter
    "COD n/a mg/L {t} 00",  # non-numeric value
    "TSS 40 mg/L {t} 07",  # unknown status
    "pH 7.1 pH 20261399996099 00",  # impossible datetime
    "pH 7.1",  # cut short
    "\u00ff\u00fe;;;",  # rubbish
)


@dataclass(frozen=True, slots=True)
class SimFile:
    name: str
    time_ns: int
    fields: dict[str, FieldValue]
    qualities: dict[str, Quality]
    valid: bool  # False: the whole file must be rejected (bad name)


class Tt10Simulator:
    """Writes files into ``folder`` (a new temp folder, removed by ``stop()``, when None).

    Non-atomic by default, as many FTP servers write: the first half, a pause of ``chunk_pause_s``,
    then the rest — a reader must wait for the file to settle. ``atomic=True`` writes a dot file and
    renames it. ``noise`` is the probability that a file also carries broken lines (rejected, while
    the good lines still arrive).
    """

    def __init__(
        self,
        *,
        interval_s: float = 60.0,
        seed: int | None = None,
        noise: float = 0.0,
        folder: str | Path | None = None,
        atomic: bool = False,
        chunk_pause_s: float | None = None,
        province: str = "LS",
        facility: str = "KCN",
        station: str = "NUOC01",
        timezone: str = "Asia/Ho_Chi_Minh",
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise is a probability per file (0..1), not {noise}")
        self.interval_s, self.noise, self.atomic = interval_s, noise, atomic
        self.chunk_pause_s = min(interval_s / 4, 0.5) if chunk_pause_s is None else chunk_pause_s
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="tt10-sim-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = str(self.folder)
        self.prefix = f"{province}_{facility}_{station}"
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.rng = random.Random(seed)
        self.noise_rng = random.Random(None if seed is None else f"noise:{seed}")
        self.emitted: list[tuple[int, dict[str, FieldValue]]] = []
        self.files: list[SimFile] = []
        self.fault: str | None = None
        self.ticks = 0  # intervals so far, dropouts included
        self._faulty_field = "pH"
        self._level = {field: self.rng.uniform(0.3, 0.7) for _, field, _, _, _ in PARAMS}
        self._last_s = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set_fault(self, name: str | None) -> None:
        if name is not None and name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        if name in ("calibrating", "device_error"):
            self._faulty_field = self.rng.choice(PARAMS)[1]  # one probe at a time is serviced or broken
        self.fault = name

    def next_file(self, now: float | None = None) -> tuple[SimFile, bytes] | None:
        """The next file's name, expected fields and bytes; None during a dropout. Writes nothing."""
        # Whole seconds, strictly increasing: names carry seconds, and tests write faster than 1 Hz.
        self._last_s = max(int(time.time() if now is None else now), self._last_s + 1)
        if self.fault == "dropout":
            return None
        local = datetime.fromtimestamp(self._last_s, self.tz).replace(tzinfo=None)
        stamp = local.strftime("%Y%m%d%H%M%S")
        variant = self.fault == "variant"
        fields: dict[str, FieldValue] = {}
        qualities: dict[str, Quality] = {}
        lines: list[str] = []
        for name, field, unit, low, high in PARAMS:
            value = self._value(field, local, low, high)
            if field == "bod5":  # BOD5 is a part of COD in river water (ratio about 0.4-0.6)
                ratio = 0.4 + 0.2 * self._level[field]
                value = round(min(max(float(fields["cod"]) * ratio, low), high), 2)
            quality: Quality = "good"
            if self.fault in ("calibrating", "device_error") and field == self._faulty_field:
                quality = "calibrating" if self.fault == "calibrating" else "device_error"
            fields[field], qualities[field] = value, quality
            parts = [name, f"{value:.2f}", unit, stamp, _STATUS[quality]]
            lines.append(self._variant(parts, local) if variant else " ".join(parts))
        if self.fault == "garbage" or (self.noise and self.noise_rng.random() < self.noise):
            for _ in range(self.noise_rng.randint(1, 3)):
                lines.insert(self.noise_rng.randrange(len(lines) + 1), self.noise_rng.choice(_GARBAGE))
        text = "\n".join(line.format(t=stamp) for line in lines) + "\n"
        if variant and self.rng.random() < 0.5:
            text = "\ufeff# datalogger export\n\n" + text.replace("\n", "\r\n")
        valid = self.fault != "badname"
        name = f"{self.prefix}_{stamp}.txt" if valid else f"{self.prefix}-{stamp[:8]}.txt"
        return SimFile(name, local_to_ns(local, self.tz), fields, qualities, valid), text.encode("utf-8")

    def write_file(self) -> SimFile | None:
        """Write the next file into the folder; what a reader must get from it is then in ``emitted``."""
        self.ticks += 1
        made = self.next_file()
        if made is None:
            return None
        sim_file, data = made
        path = self.folder / sim_file.name
        if self.atomic:
            temp = self.folder / f".{sim_file.name}.part"
            temp.write_bytes(data)
            os.replace(temp, path)
        else:
            half = len(data) // 2
            with path.open("wb") as f:
                f.write(data[:half])
                f.flush()
                self._stop.wait(self.chunk_pause_s)
                f.write(data[half:])
        self.files.append(sim_file)
        if sim_file.valid:
            self.emitted.append((sim_file.time_ns, sim_file.fields))
        return sim_file

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"tt10-sim {self.prefix}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.write_file()
            self._stop.wait(self.interval_s)

    def _value(self, field: str, local: datetime, low: float, high: float) -> float:
        # A mean-reverting walk in [0, 1] (the slow weather/discharge part), plus a daily cycle.
        level = self._level[field] + 0.1 * (0.5 - self._level[field]) + self.rng.gauss(0.0, 0.03)
        self._level[field] = min(max(level, 0.0), 1.0)
        position = self._level[field]
        peak = _PEAK_HOUR.get(field)
        if peak is not None:
            hour = local.hour + local.minute / 60
            position = 0.5 * position + 0.25 + 0.25 * math.cos(2 * math.pi * (hour - peak) / 24)
        return round(low + (high - low) * min(max(position, 0.0), 1.0), 2)

    def _variant(self, parts: list[str], local: datetime) -> str:
        name, value, unit, stamp, status = parts
        rng = self.rng
        name = rng.choice([name, name.lower(), *_ALIASES.get(name, [])])
        if rng.random() < 0.4:
            value = value.replace(".", ",")
        if rng.random() < 0.3:
            unit = ""
        if rng.random() < 0.4:
            stamp = local.strftime("%Y-%m-%d %H:%M:%S")
        tokens = (
            [stamp, name, value, unit, status] if rng.random() < 0.4 else [name, value, unit, stamp, status]
        )
        separator = rng.choice([" ", "\t", "   ", " \t "])
        return separator.join(t for t in tokens if t)
