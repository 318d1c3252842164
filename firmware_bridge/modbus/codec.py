"""Register words ⇄ numbers for the types, word orders and byte orders a register map can name.

pymodbus converts registers to numbers (``convert_from_registers``) and handles the word order;
it has no byte order within a register, which some sondes swap, so that swap is done here first.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Literal

from pymodbus.client import ModbusBaseSyncClient

RegType = Literal["u16", "i16", "u32", "i32", "f32"]
Order = Literal["big", "little"]

_DATATYPE = {
    "u16": ModbusBaseSyncClient.DATATYPE.UINT16,
    "i16": ModbusBaseSyncClient.DATATYPE.INT16,
    "u32": ModbusBaseSyncClient.DATATYPE.UINT32,
    "i32": ModbusBaseSyncClient.DATATYPE.INT32,
    "f32": ModbusBaseSyncClient.DATATYPE.FLOAT32,
}
WIDTH: dict[str, int] = {"u16": 1, "i16": 1, "u32": 2, "i32": 2, "f32": 2}
INT_RANGE: dict[str, tuple[int, int]] = {
    "u16": (0, 0xFFFF),
    "i16": (-0x8000, 0x7FFF),
    "u32": (0, 0xFFFF_FFFF),
    "i32": (-0x8000_0000, 0x7FFF_FFFF),
}
FLOAT32_MAX = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]


def swap_bytes(registers: Sequence[int]) -> list[int]:
    return [((r & 0xFF) << 8) | ((r >> 8) & 0xFF) for r in registers]


def registers_to_raw(
    registers: Sequence[int], type_: RegType, word_order: Order = "big", byte_order: Order = "big"
) -> int | float:
    """The number ``registers`` (exactly WIDTH[type_] words) hold, before scale and offset."""
    words = [r & 0xFFFF for r in registers]  # a register is 16 bits, whatever a caller passes
    if byte_order == "little":
        words = swap_bytes(words)
    raw = ModbusBaseSyncClient.convert_from_registers(words, _DATATYPE[type_], word_order=word_order)
    assert isinstance(raw, int | float)
    return raw


def raw_to_registers(
    raw: int | float, type_: RegType, word_order: Order = "big", byte_order: Order = "big"
) -> list[int]:
    """The inverse of ``registers_to_raw``; ``raw`` must fit the type."""
    value: int | float = float(raw) if type_ == "f32" else int(raw)
    words = ModbusBaseSyncClient.convert_to_registers(value, _DATATYPE[type_], word_order=word_order)
    return swap_bytes(words) if byte_order == "little" else words


def scaled(raw: int | float, type_: RegType, scale: float, offset: float) -> float:
    """raw·scale + offset, as a float (one field keeps one type in InfluxDB) without binary noise.

    A float32 carries about 7 significant digits; printing more (7.12 arriving as
    7.119999885559082) only confuses people reading the wall, so float32 values are cut to 7.
    """
    if type_ == "f32":
        if not math.isfinite(raw):
            return float(raw)
        raw = float(f"{raw:.7g}")
    return float(f"{raw * scale + offset:.12g}")


def unscaled(value: float, type_: RegType, scale: float, offset: float) -> int | float:
    """The raw number a device stores for ``value``: rounded and clamped to what the type holds."""
    raw = (value - offset) / scale
    if type_ == "f32":
        return min(max(raw, -FLOAT32_MAX), FLOAT32_MAX)
    low, high = INT_RANGE[type_]
    return min(max(round(raw), low), high)
