"""The device-family registry: every family registers itself by name when its package is imported.

Adding a family touches its own folder plus one import line in ``firmware_bridge/families.py``;
nothing else in the stack names families, so the edge agent and ``ioc probe`` find new ones here.
"""

from __future__ import annotations

import collections
import difflib
import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from ioc.config import FamilySpec
from ioc.reading import FieldValue, Quality

Transport = Literal["serial", "modbus", "snmp", "files", "mqtt", "camera"]


@dataclass(frozen=True, slots=True)
class Sample:
    """What a family makes of the device's output, before the edge turns it into a Reading.

    The edge adds the identity tags (city, site, gateway, device) and, when ``time_ns`` is None,
    the time it read the sample. A station file or a datalogger carries its own time and status.
    """

    fields: dict[str, FieldValue]
    measurement: str | None = None  # None: the family's measurement
    tags: dict[str, str] = field(default_factory=dict)  # per-measurement tags (signal_group, lane, …)
    time_ns: int | None = None
    quality: Quality = "good"


@dataclass(frozen=True)
class SerialSettings:
    """Line settings a host must open the device's port with (pyserial names and values)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1


@runtime_checkable
class FrameDecoder(Protocol):
    """Turns a device's byte stream into samples.

    ``feed`` accepts any chunking of the stream (a frame may arrive over several calls) and never
    raises on any input: a field gateway must survive line noise, half-plugged connectors and the
    wrong device on the wrong port, and say what it dropped in ``dropped``.
    """

    dropped: collections.Counter[str]
    decoded: int

    def feed(self, data: bytes) -> list[Sample]: ...


@runtime_checkable
class Simulator(Protocol):
    """Plays a device's firmware where a client reaches it: a pty path, host:port, a folder."""

    port: str
    emitted: list[tuple[int, dict[str, FieldValue]]]

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class DeviceContext:
    """What the edge tells a family about one configured device."""

    device_id: str
    port: str | None  # a pyserial URL (path, socket://, rfc2217://), host:port, or a folder
    baudrate: int | None
    poll_interval_s: float
    options: Any  # an instance of the family's ``options`` model, or the raw dict when it has none
    state_dir: Path  # the family's files that must survive restarts (ledgers, hash chains)
    # Device events (a camera's state change, …) as JSON for MQTT ``events``. The agent fills it; it
    # never blocks, so a device thread may call it. None where nothing carries events (``ioc probe``).
    publish_event: Callable[[bytes], None] | None = None
    # Files the gateway's devices share (one snapshot folder for the gateway's single uploader).
    # None outside an agent: use ``state_dir``.
    shared_dir: Path | None = None


class Source(Protocol):
    """A device that is polled or watched rather than streamed over a serial line."""

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        """Read the device until ``stop`` is set. Raise on an I/O failure: the edge logs it and
        calls ``run`` again after a capped, jittered backoff."""
        ...


class Processor(Protocol):
    """Stateful work on one device's samples (a vehicle weighing from live scale weights)."""

    def __call__(self, sample: Sample) -> list[Sample]: ...


@dataclass(frozen=True)
class DeviceFamily:
    name: str
    measurement: str
    description: str
    # Keyword arguments: interval_s: float = 1.0, seed: int | None = None, noise: float = 0.0, plus
    # family-specific ones documented in the family's README.
    new_simulator: Callable[..., Simulator]
    transport: Transport = "serial"
    serial: SerialSettings | None = None  # for serial transports: the device's default line settings
    # new_decoder turns raw bytes into samples (what `ioc decode` and `ioc probe` use); the edge
    # reads a serial stream through it unless the family has new_source, its own way to read the
    # device (polling Modbus or SNMP, watching a folder, subscribing to MQTT).
    new_decoder: Callable[[], FrameDecoder] | None = None
    new_source: Callable[[DeviceContext], Source] | None = None
    # Whole-file formats (station files) that `ioc decode` reads as one unit: (name, bytes) →
    # (samples, drops by reason).
    parse_capture: Callable[[str, bytes], tuple[list[Sample], collections.Counter[str]]] | None = None
    new_processor: Callable[[DeviceContext], Processor] | None = None
    options: type[BaseModel] | None = None  # validates the device's ``options:`` in a city config
    # Devices that speak only when asked (Modbus RTU): (port, line settings, timeout) → what answered.
    probe: Callable[[str, SerialSettings, float], str | None] | None = None
    # Simulator keyword arguments `make demo` uses (e.g. a faster truck cycle so the wall fills quickly).
    demo_kwargs: dict[str, Any] = field(default_factory=dict)


class UnknownFamilyError(KeyError):
    # KeyError's str() is the repr of its argument; a technician reads this message in a terminal.
    def __str__(self) -> str:
        return str(self.args[0])


_FAMILIES: dict[str, DeviceFamily] = {}


def register(family: DeviceFamily) -> DeviceFamily:
    """Add ``family``; two families with one name would make configs ambiguous, so that is an error."""
    if family.new_decoder is None and family.new_source is None:
        raise ValueError(f"device family {family.name!r} must set new_decoder or new_source")
    if family.name in _FAMILIES:
        raise ValueError(f"device family {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    return family


def _load(name: str) -> DeviceFamily | None:
    # Lazy: a family's package registers it when imported (and imports this module to do so).
    from firmware_bridge.families import FAMILY_PACKAGES

    if name not in _FAMILIES and name in FAMILY_PACKAGES:
        importlib.import_module(FAMILY_PACKAGES[name])
        if name not in _FAMILIES:
            raise RuntimeError(f"{FAMILY_PACKAGES[name]} did not register device family {name!r}")
    return _FAMILIES.get(name)


def get(name: str) -> DeviceFamily:
    """The family called ``name``; UnknownFamilyError (a KeyError) names the known ones."""
    family = _load(name)
    if family is None:
        known = names()
        message = f"unknown device family {name!r}; known: {', '.join(known) or '(none)'}"
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        raise UnknownFamilyError(message)
    return family


def names() -> list[str]:
    """Names of all families, sorted (without importing them)."""
    from firmware_bridge.families import FAMILY_PACKAGES

    return sorted(set(FAMILY_PACKAGES) | set(_FAMILIES))


class _Specs(Mapping[str, FamilySpec]):
    """Family name → FamilySpec, importing a family only when the config uses it."""

    def __getitem__(self, name: str) -> FamilySpec:
        family = get(name)
        return FamilySpec(family.options, family.transport == "modbus")

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __len__(self) -> int:
        return len(names())


def config_specs() -> Mapping[str, FamilySpec]:
    """What the config checks need of each family: its options model, and whether devices of
    several families may share one port (Modbus RTU on RS-485)."""
    return _Specs()
