"""A Yaohua XK3190-A9 at a weigh station on a pty, in continuous output tf=0."""

from __future__ import annotations

from firmware_bridge.scale_common import SCALE_FAULTS, ScaleSimulator, ScaleState, to_kg
from firmware_bridge.xk3190.codec import FRAME_LEN, STX, encode_frame
from ioc.reading import FieldValue

FAULTS = SCALE_FAULTS


class Xk3190Simulator(ScaleSimulator):
    """Plays the A9 (see ``ScaleSimulator`` for the keywords and faults). Weights are shown in kg
    without decimals; a weight beyond six digits is clamped, as the display cannot show it."""

    def encode(self, state: ScaleState) -> tuple[bytes, dict[str, FieldValue]]:
        raw = max(-999_999, min(state.weight_kg, 999_999))
        return encode_frame(raw), {"weight_kg": to_kg(raw, 0)}

    def noise_bytes(self, frame: bytes) -> bytes:
        """Garbage without STX, or the frame cut short (any cut: its STX can never line up with the
        real frame's bytes into a valid frame, since STX is neither sign, digit, dp nor ETX)."""
        if self.noise_rng.random() < 0.5:
            return self.random_bytes(self.noise_rng.randint(1, 16), bytes([STX]))
        return frame[: self.noise_rng.randrange(1, FRAME_LEN)]

    def garbage_bytes(self, frame: bytes) -> bytes:
        return self.random_bytes(len(frame), bytes([STX]))
