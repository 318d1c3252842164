"""Register maps: which register holds which dictionary field, as YAML configuration, not code.

A map file (see ``maps/`` and README.md) names the measurement its fields belong to and lists
registers; ``load_map`` validates it and reports every problem with the file, the register and
the key, because the person reading the error is editing that file on a gateway.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from firmware_bridge.modbus.codec import WIDTH, Order, RegType
from ioc.measurements import dictionary

MAX_REGISTERS_PER_READ = 125  # the Modbus limit for function 03/04
_MAPS = "maps"


class MapError(ValueError):
    """A register map that cannot be used; the message names the file, register and key."""


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    address: int = Field(ge=0, le=0xFFFF)
    function: Literal["holding", "input"] = "holding"
    type: RegType
    word_order: Order = "big"
    byte_order: Order = "big"
    scale: float = 1.0
    offset: float = 0.0

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: float) -> float:
        if not math.isfinite(value) or value == 0:
            raise ValueError("must be a finite number other than 0")
        return value

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @property
    def width(self) -> int:
        return WIDTH[self.type]

    @property
    def end(self) -> int:
        """The last register this value occupies."""
        return self.address + self.width - 1


class RegisterMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    measurement: str
    description: str = ""
    registers: tuple[Register, ...] = Field(min_length=1)

    @property
    def fields(self) -> list[str]:
        return [r.field for r in self.registers]


@dataclass(frozen=True)
class ReadBlock:
    """One read request: ``count`` registers from ``address``, holding the values of ``registers``."""

    function: Literal["holding", "input"]
    address: int
    count: int
    registers: tuple[Register, ...]


def plan_reads(registers: tuple[Register, ...], limit: int = MAX_REGISTERS_PER_READ) -> list[ReadBlock]:
    """As few requests as possible: contiguous registers of one table go in one request.

    Gaps are never read across: a device answers a read that touches an undefined register
    with an exception, which would lose the whole block.
    """
    blocks: list[ReadBlock] = []
    for reg in sorted(registers, key=lambda r: (r.function, r.address)):
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and last.function == reg.function
            and reg.address <= last.address + last.count
            and reg.end - last.address < limit
        ):
            count = max(last.count, reg.end - last.address + 1)
            blocks[-1] = ReadBlock(last.function, last.address, count, (*last.registers, reg))
        else:
            blocks.append(ReadBlock(reg.function, reg.address, reg.width, (reg,)))
    return blocks


def _maps_dir() -> Traversable:
    return resources.files("firmware_bridge.modbus").joinpath(_MAPS)


def shipped_maps() -> list[str]:
    """Names of the maps that come with the package (``map: <name>`` in a device's options)."""
    return sorted(p.name.removesuffix(".yaml") for p in _maps_dir().iterdir() if p.name.endswith(".yaml"))


def is_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def check_map_ref(ref: str) -> str:
    """Reject a map name that is neither shipped nor a path, naming the shipped ones."""
    if is_path(ref) or ref in shipped_maps():
        return ref
    known = shipped_maps()
    message = f"unknown register map {ref!r}; shipped maps: {', '.join(known)}; or give a path to a YAML file"
    close = difflib.get_close_matches(ref, known, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    raise MapError(message)


def load_map(ref: str, measurement: str | None = None) -> RegisterMap:
    """The map named ``ref`` (shipped name or file path), checked against ``measurement``'s fields."""
    if is_path(ref):
        path = Path(ref).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MapError(f"register map {ref}: cannot read it: {exc.strerror or exc}") from None
        result = parse_map(text, str(path))
    else:
        result = _shipped(check_map_ref(ref))
    if measurement is not None and result.measurement != measurement:
        raise MapError(
            f"register map {ref}: key 'measurement': the map is for {result.measurement}, "
            f"but this device family reads {measurement}"
        )
    return result


@cache
def _shipped(name: str) -> RegisterMap:
    file = _maps_dir().joinpath(f"{name}.yaml")
    return parse_map(file.read_text(encoding="utf-8"), f"{name} ({_MAPS}/{name}.yaml)")


def parse_map(text: str, source: str) -> RegisterMap:
    """Validate a map's YAML text; ``source`` names the file in error messages."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MapError(f"register map {source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise MapError(f"register map {source}: expected a mapping with 'measurement' and 'registers'")
    try:
        result = RegisterMap.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(raw, error) for error in exc.errors()]
        raise MapError(f"register map {source}: " + "; ".join(problems)) from None
    problems = _cross_check(result)
    if problems:
        raise MapError(f"register map {source}: " + "; ".join(problems))
    return result


def _register_label(raw: dict[str, Any], index: int) -> str:
    registers = raw.get("registers")
    entry = registers[index] if isinstance(registers, list) and index < len(registers) else None
    name = entry.get("field") if isinstance(entry, dict) else None
    return f"registers[{index}]" + (f" (field {name!r})" if name is not None else "")


def _describe(raw: dict[str, Any], error: Any) -> str:
    loc = tuple(error["loc"])
    message = error["msg"]
    if len(loc) >= 2 and loc[0] == "registers" and isinstance(loc[1], int):
        where = _register_label(raw, loc[1])
        if len(loc) >= 3:
            got = error.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            return f"{where}: key {loc[2]!r}: {message}{shown}"
        return f"{where}: {message}"
    if loc:
        return f"key {loc[0]!r}: {message}"
    return message


def _cross_check(result: RegisterMap) -> list[str]:
    problems: list[str] = []
    measurement = dictionary().get(result.measurement)
    if measurement is None:
        known = ", ".join(dictionary())
        return [f"key 'measurement': {result.measurement!r} is not a measurement; known: {known}"]
    seen_fields: dict[str, int] = {}
    for i, reg in enumerate(result.registers):
        label = f"registers[{i}] (field {reg.field!r})"
        if reg.field not in measurement.fields:
            # Case-blind: 'ph' for 'pH' and 'relativehumidity' are the usual slips.
            lowered = {name.lower(): name for name in measurement.fields}
            hint = [lowered[m] for m in difflib.get_close_matches(reg.field.lower(), list(lowered), n=1)]
            problems.append(
                f"{label}: key 'field': not a field of {measurement.name}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
        if reg.field in seen_fields:
            problems.append(f"{label}: key 'field': already read by registers[{seen_fields[reg.field]}]")
        seen_fields.setdefault(reg.field, i)
        if reg.end > 0xFFFF:
            problems.append(f"{label}: key 'address': a {reg.type} at {reg.address:#06x} runs past 0xffff")
        for j, other in enumerate(result.registers[:i]):
            if other.function == reg.function and reg.address <= other.end and other.address <= reg.end:
                problems.append(
                    f"{label}: key 'address': {reg.address:#06x}–{reg.end:#06x} overlaps registers[{j}] "
                    f"(field {other.field!r}, {other.address:#06x}–{other.end:#06x})"
                )
    return problems
