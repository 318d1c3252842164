"""What every byte-stream codec's tests check the same way: the fields a decoder makes of some
bytes, a stream cut into random chunks, and the property that chunking changes nothing while the
decoder keeps a bounded buffer."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sized
from typing import Any, Protocol

from hypothesis import strategies as st

from firmware_bridge.registry import Sample


class StreamDecoder(Protocol):
    dropped: Any

    def feed(self, data: bytes) -> list[Sample]: ...


def decode(decoder: StreamDecoder, data: bytes) -> list[dict[str, Any]]:
    """The fields of every sample the decoder makes of ``data``."""
    return [sample.fields for sample in decoder.feed(data)]


def chunked(data: st.DataObject, stream: bytes) -> list[bytes]:
    """``stream`` cut at up to 12 random places, as serial reads arrive."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def assert_chunking_does_not_matter(
    new_decoder: Callable[[], StreamDecoder],
    stream: bytes,
    data: st.DataObject,
    kept: Callable[[Any], Sized],
    bound: int,
) -> None:
    """Fed in chunks, a decoder gives what it gives fed at once, counts the same drops, and never
    keeps more than ``bound`` bytes (``kept(decoder)``) between calls."""
    whole = new_decoder()
    expected = decode(whole, stream)
    decoder = new_decoder()
    out = []
    for chunk in chunked(data, stream):
        out += decode(decoder, chunk)
        assert len(kept(decoder)) <= bound  # bounded: at most one partial frame is kept
    assert out == expected
    assert decoder.dropped == whole.dropped
