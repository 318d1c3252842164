"""A Mettler Toledo terminal at a weigh station on a pty, in standard continuous output."""

from __future__ import annotations

from firmware_bridge.scale_common import SCALE_FAULTS, ScaleSimulator, ScaleState
from firmware_bridge.toledo.codec import FRAME_LEN, INCREMENT_CODES, STX, checksum, encode_frame
from ioc.reading import FieldValue

FAULTS = SCALE_FAULTS


def display_format(division_kg: int) -> tuple[int, int, int]:
    """(dp code, increment, count factor in kg) showing kg weights in steps of ``division_kg``:
    20 kg is a dummy zero (dp code 1, ×10) with increment 2."""
    factor, dp_code = 1, 2
    while division_kg % (factor * 10) == 0 and dp_code > 0:
        factor, dp_code = factor * 10, dp_code - 1
    increment = division_kg // factor
    if increment not in INCREMENT_CODES:
        raise ValueError(f"a Toledo display steps by 1, 2 or 5 × 10^n; not {division_kg} kg")
    return dp_code, increment, factor


class ToledoSimulator(ScaleSimulator):
    """Plays the terminal (see ``ScaleSimulator`` for the common keywords and faults). Extra keyword:
    ``checksum`` — append the optional checksum character. Gross weighing, no tare."""

    def __init__(
        self,
        *,
        interval_s: float = 0.1,
        seed: int | None = None,
        noise: float = 0.0,
        division_kg: int = 20,
        capacity_kg: int = 100_000,
        speedup: float = 1.0,
        line_parity: bool = False,
        checksum: bool = False,
    ) -> None:
        super().__init__(
            interval_s=interval_s,
            seed=seed,
            noise=noise,
            division_kg=division_kg,
            capacity_kg=capacity_kg,
            speedup=speedup,
            line_parity=line_parity,
        )
        self.checksum = checksum
        self._dp_code, self._increment, self._factor = display_format(self.station.division_kg)
        self._sent_check: int | None = None

    def encode(self, state: ScaleState) -> tuple[bytes, dict[str, FieldValue]]:
        counts = max(-999_999, min(state.weight_kg // self._factor, 999_999))
        frame = encode_frame(
            counts,
            dp_code=self._dp_code,
            increment=self._increment,
            out_of_range=state.overload,
            motion=state.motion,
            with_checksum=self.checksum,
        )
        fields: dict[str, FieldValue] = {
            "weight_kg": float(counts * self._factor),
            "tare_kg": 0.0,
            "net": False,
            "stable": not state.motion,
            "overload": state.overload,
        }
        return frame, fields

    def emit_frame(self) -> bool:
        before = len(self.emitted)
        sent = super().emit_frame()
        if len(self.emitted) > before and self._last is not None:
            self._sent_check = checksum(self._last[0][:FRAME_LEN])
        return sent

    def noise_bytes(self, frame: bytes) -> bytes:
        """Garbage, or the frame cut short before its CR: neither can form a frame with the real one
        after it (the real STX lands where a digit or CR belongs). Garbage never starts with the last
        frame's checksum either, which a decoder still detecting checksums would take as one."""
        if self.noise_rng.random() < 0.5:
            banned = bytes([STX] if self._sent_check is None else [STX, self._sent_check])
            return self.random_bytes(1, banned) + self.random_bytes(self.noise_rng.randint(0, 15), b"\x02")
        return frame[: self.noise_rng.randrange(1, FRAME_LEN)]

    def garbage_bytes(self, frame: bytes) -> bytes:
        return self.random_bytes(len(frame), bytes([STX]))
