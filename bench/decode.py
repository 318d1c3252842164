"""Decode throughput per serial stream family: frames/s through the family's decoder, fed in
4 KiB chunks as a port delivers them, against the frames/s a 115 200-baud line can carry (the
fastest line these devices use: the ratio is the headroom one gateway core has per port)."""

from __future__ import annotations

import time

from bench.results import Figure
from firmware_bridge import registry
from firmware_bridge.pty_simulator import PtySimulator

FRAMES = 50_000
CHUNK = 4096
LINE_BAUD = 115_200


def stream_families() -> list[str]:
    return [
        n for n in registry.names() if registry.get(n).new_decoder and registry.get(n).transport == "serial"
    ]


def decode_rate(name: str, frames: int = FRAMES) -> tuple[float, float]:
    """(frames/s, bytes per frame) for one family."""
    family = registry.get(name)
    sim = family.new_simulator(interval_s=1.0, seed=11)
    try:
        assert isinstance(sim, PtySimulator)
        stream = b"".join(sim.next_frame()[0] for _ in range(frames))
    finally:
        sim.stop()
    decoder = family.new_decoder()  # type: ignore[misc]
    started = time.perf_counter()
    decoded = 0
    for i in range(0, len(stream), CHUNK):
        decoded += len(decoder.feed(stream[i : i + CHUNK]))
    elapsed = time.perf_counter() - started
    if decoded != frames:
        raise RuntimeError(f"{name}: decoded {decoded} of {frames} frames")
    return frames / elapsed, len(stream) / frames


def run() -> list[Figure]:
    figures = []
    for name in stream_families():
        rate, frame_bytes = decode_rate(name)
        line_rate = LINE_BAUD / 10 / frame_bytes  # 10 bits per byte on an 8N1 line
        figures.append(
            Figure(
                f"decode_{name}",
                rate,
                "frames/s",
                f"{LINE_BAUD} baud line carries {line_rate:,.0f} frames/s of {frame_bytes:.0f} B",
                ratio=rate / line_rate,
            )
        )
    return figures
