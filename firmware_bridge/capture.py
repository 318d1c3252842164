"""Decode a raw capture file (bytes as received) with one family's decoder: `ioc decode`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from firmware_bridge import registry
from firmware_bridge.registry import Sample

CHUNK = 4096  # feed in chunks, as a port would deliver them: exercises the decoders' reassembly


def decodable_families() -> list[str]:
    return [
        name
        for name in registry.names()
        if registry.get(name).new_decoder is not None or registry.get(name).parse_capture is not None
    ]


def decode_file(protocol: str, path: Path) -> tuple[Iterator[Sample], Counter[str]]:
    """Samples of the capture, lazily; the Counter of drops is complete once they are consumed."""
    family = registry.get(protocol)
    if family.parse_capture is not None:
        samples, dropped = family.parse_capture(path.name, path.read_bytes())
        return iter(samples), dropped
    if family.new_decoder is None:
        raise KeyError(
            f"family {protocol!r} has no byte decoder; decodable: {', '.join(decodable_families())}"
        )
    decoder = family.new_decoder()
    dropped: Counter[str] = Counter()

    def samples() -> Iterator[Sample]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield from decoder.feed(chunk)
        dropped.update(decoder.dropped)

    return samples(), dropped


def to_json_line(sample: Sample, default_measurement: str) -> str:
    doc: dict[str, object] = {
        "measurement": sample.measurement or default_measurement,
        "fields": sample.fields,
        "quality": sample.quality,
    }
    if sample.tags:
        doc["tags"] = sample.tags
    if sample.time_ns is not None:
        doc["time_ns"] = sample.time_ns
    return json.dumps(doc, ensure_ascii=False)
