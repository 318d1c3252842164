"""The device ``options:`` of a station-file folder (validated by the edge when it loads a city config)."""

from __future__ import annotations

import math
import zoneinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.measurements import dictionary


class Tt10Options(BaseModel):
    """How to read one station's files. Every field has a default, so ``options:`` may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measurement: Literal["water_quality", "air_quality"] = "water_quality"
    # Dataloggers stamp local time without an offset (Thông tư 10/2021 files carry none).
    timezone: str = "Asia/Ho_Chi_Minh"
    # The station code in the file names; when set, files of other stations in the folder are rejected.
    station: str | None = None
    # Station parameter name → dictionary field, on top of the built-in names (see params.py).
    param_map: dict[str, str] = Field(default_factory=dict)
    # Dictionary field → {unit as the station writes it: factor to the dictionary's unit}.
    unit_map: dict[str, dict[str, float]] = Field(default_factory=dict)
    # Parameters the station sends that have no dictionary field (door switch, supply voltage …):
    # skipped silently instead of being rejected line by line in every file.
    ignore_params: list[str] = Field(default_factory=list)
    glob: str = "*.txt"
    archive: bool = True
    # A file is read only once its size and mtime have not changed for this long (FTP uploads in progress).
    settle_s: float = Field(default=2.0, ge=0.0, le=3600.0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as 'Asia/Ho_Chi_Minh')"
            ) from None
        return value

    @field_validator("station")
    @classmethod
    def _station_code(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise ValueError(f"station must be the code in the file names, without spaces, not {value!r}")
        return value

    @model_validator(mode="after")
    def _fields_exist(self) -> Tt10Options:
        fields = dictionary()[self.measurement].fields
        known = ", ".join(sorted(fields))
        for param, field in self.param_map.items():
            if field not in fields:
                raise ValueError(
                    f"param_map[{param!r}] = {field!r} is not a {self.measurement} field ({known})"
                )
        for field, units in self.unit_map.items():
            if field not in fields:
                raise ValueError(f"unit_map key {field!r} is not a {self.measurement} field ({known})")
            for unit, factor in units.items():
                if not math.isfinite(factor) or factor == 0:
                    raise ValueError(f"unit_map[{field!r}][{unit!r}] must be a finite, non-zero factor")
        return self
