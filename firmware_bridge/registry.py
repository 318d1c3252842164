"""The device-family registry: every family registers itself by name when its package is imported.

Adding a family touches its own folder plus one import line in ``firmware_bridge/families.py``;
nothing else in the stack names families, so the edge agent and ``ioc probe`` find new ones here.
"""

from __future__ import annotations

import collections
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ioc.reading import FieldValue


@dataclass(frozen=True)
class SerialSettings:
    """Line settings a host must open the device's port with (pyserial names and values)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1


@runtime_checkable
class FrameDecoder(Protocol):
    """Turns a device's byte stream into field dicts for the family's measurement.

    ``feed`` accepts any chunking of the stream (a frame may arrive over several calls) and never
    raises on any input: a field gateway must survive line noise, half-plugged connectors and the
    wrong device on the wrong port, and say what it dropped in ``dropped``.
    """

    dropped: collections.Counter[str]
    decoded: int

    def feed(self, data: bytes) -> list[dict[str, FieldValue]]: ...


@runtime_checkable
class Simulator(Protocol):
    """Plays a device's firmware on a port a client opens with pyserial."""

    port: str
    emitted: list[tuple[int, dict[str, FieldValue]]]

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class DeviceFamily:
    name: str
    measurement: str
    description: str
    serial: SerialSettings
    new_decoder: Callable[[], FrameDecoder]
    # Keyword arguments: interval_s: float = 1.0, seed: int | None = None, device_id: int | None = None,
    # noise: float = 0.0, plus family-specific ones documented in the family's README.
    new_simulator: Callable[..., Simulator]


class UnknownFamilyError(KeyError):
    # KeyError's str() is the repr of its argument; a technician reads this message in a terminal.
    def __str__(self) -> str:
        return str(self.args[0])


_FAMILIES: dict[str, DeviceFamily] = {}


def register(family: DeviceFamily) -> DeviceFamily:
    """Add ``family``; two families with one name would make configs ambiguous, so that is an error."""
    if family.name in _FAMILIES:
        raise ValueError(f"device family {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    return family


def _load_families() -> None:
    # Lazy: the family packages import this module to register themselves.
    import firmware_bridge.families  # noqa: F401


def get(name: str) -> DeviceFamily:
    """The family called ``name``; UnknownFamilyError (a KeyError) names the known ones."""
    _load_families()
    try:
        return _FAMILIES[name]
    except KeyError:
        known = sorted(_FAMILIES)
        message = f"unknown device family {name!r}; known: {', '.join(known) or '(none)'}"
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        raise UnknownFamilyError(message) from None


def names() -> list[str]:
    """Names of all registered families, sorted."""
    _load_families()
    return sorted(_FAMILIES)
