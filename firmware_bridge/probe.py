"""Which device is on this port? Listens at each plausible line setting and lets every stream
family's decoder try the bytes — what a technician needs on site before writing the config."""

from __future__ import annotations

import termios
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import serial

from firmware_bridge import registry
from firmware_bridge.registry import DeviceFamily, SerialSettings

# Baud rates field devices commonly ship with, tried after the known families' own settings.
COMMON_BAUDS = (9600, 19200, 4800, 2400, 38400, 115200)
FRAMINGS = ((8, "N", 1), (7, "E", 1))


@dataclass(frozen=True)
class ProbeHit:
    family: str
    settings: SerialSettings
    detail: str

    def describe(self) -> str:
        s = self.settings
        return f"{self.family} at {s.baudrate} {s.bytesize}{s.parity}{int(s.stopbits)}: {self.detail}"


@dataclass(frozen=True)
class ProbeResult:
    hit: ProbeHit | None
    tried: list[SerialSettings]
    bytes_seen: int
    first_bytes: bytes


def candidate_settings(families: Iterable[DeviceFamily]) -> list[SerialSettings]:
    """The families' own settings first (most likely), then common bauds and framings."""
    out: list[SerialSettings] = []
    for family in families:
        if family.serial and family.serial not in out:
            out.append(family.serial)
    for baud in COMMON_BAUDS:
        for bits, parity, stop in FRAMINGS:
            candidate = SerialSettings(baud, bits, parity, stop)
            if candidate not in out:
                out.append(candidate)
    return out


def best_match(data: bytes, families: Iterable[DeviceFamily], settings: SerialSettings) -> ProbeHit | None:
    """The family whose decoder makes the most frames of ``data`` (ties: fewest drops)."""
    best: tuple[int, int, ProbeHit] | None = None
    for family in families:
        assert family.new_decoder is not None
        decoder = family.new_decoder()
        samples = decoder.feed(data)
        if not samples:
            continue
        dropped = sum(decoder.dropped.values())
        fields = ", ".join(f"{k}={v}" for k, v in samples[-1].fields.items())
        hit = ProbeHit(family.name, settings, f"{fields} ({len(samples)} frames, {dropped} dropped)")
        if best is None or (len(samples), -dropped) > best[:2]:
            best = (len(samples), -dropped, hit)
    return best[2] if best else None


def _listen(port: str, settings: SerialSettings, seconds: float) -> bytes | None:
    """The bytes heard at ``settings``; None when the port cannot run them (a pty has no parity)."""
    try:
        link = serial.serial_for_url(
            port,
            settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=0.1,
        )
    except termios.error:
        return None
    with link:
        data = bytearray()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data += link.read(max(link.in_waiting, 1))
        return bytes(data)


def probe(
    port: str,
    seconds_per_setting: float = 2.0,
    all_settings: bool = False,
    progress: Callable[[SerialSettings], None] | None = None,
) -> ProbeResult:
    """Try the settings in order until a family decodes frames (or all, with ``all_settings``)."""
    families = [registry.get(name) for name in registry.names()]
    streams = [f for f in families if f.new_decoder is not None and f.transport == "serial"]
    # Devices that answer only when asked, one probe each (two Modbus families share one).
    askers = {id(f.probe): f for f in families if f.probe is not None}.values()
    settings_list = candidate_settings([*streams, *askers])
    if not all_settings:
        settings_list = settings_list[: len({f.serial for f in streams}) + 2]
    tried: list[SerialSettings] = []
    seen = b""
    total = 0
    for settings in settings_list:
        if progress:
            progress(settings)
        tried.append(settings)
        data = _listen(port, settings, seconds_per_setting)
        if data is None:
            continue
        total += len(data)
        seen = seen or data[:32]
        hit = best_match(data, streams, settings)
        if hit is None and not data:  # a talking device would have been heard; ask the silent kind
            for family in askers:
                assert family.probe is not None
                detail = family.probe(port, settings, seconds_per_setting)
                if detail:
                    hit = ProbeHit(family.name, settings, detail)
                    break
        if hit is not None:
            return ProbeResult(hit, tried, total, seen)
    return ProbeResult(None, tried, total, seen)
