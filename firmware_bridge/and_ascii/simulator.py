"""An A&D-format weighing indicator at a weigh station on a pty, in stream mode."""

from __future__ import annotations

from firmware_bridge.and_ascii.codec import encode_line
from firmware_bridge.scale_common import SCALE_FAULTS, ScaleSimulator, ScaleState
from ioc.reading import FieldValue

FAULTS = SCALE_FAULTS
UNITS = ("kg", "t")
_LINE_ENDS = b"\r\n"


class AndAsciiSimulator(ScaleSimulator):
    """Plays the indicator (see ``ScaleSimulator`` for the common keywords and faults). Extra keyword:
    ``unit`` — "kg" (``+0048020kg``) or "t" (``+048.020 t``). Above capacity it sends OL lines."""

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
        unit: str = "kg",
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
        super().__init__(
            interval_s=interval_s,
            seed=seed,
            noise=noise,
            division_kg=division_kg,
            capacity_kg=capacity_kg,
            speedup=speedup,
            line_parity=line_parity,
        )
        self.unit = unit

    def encode(self, state: ScaleState) -> tuple[bytes, dict[str, FieldValue]]:
        if state.overload:
            return encode_line(None, unit=self.unit), {"overload": True, "net": False}
        kg = min(abs(state.weight_kg), 9_999_999)
        value = f"{kg:07d}" if self.unit == "kg" else f"{kg // 1000:03d}.{kg % 1000:03d}"
        line = encode_line(value, stable=not state.motion, unit=self.unit, negative=state.weight_kg < 0)
        weight = float(-kg if state.weight_kg < 0 else kg)
        return line, {"weight_kg": weight, "stable": not state.motion, "overload": False, "net": False}

    def noise_bytes(self, frame: bytes) -> bytes:
        """Garbage without CR/LF, or the line cut before its CR: either joins the real line as a
        prefix, which the decoder skips because a frame must end where the line ends."""
        if self.noise_rng.random() < 0.5:
            return self.random_bytes(self.noise_rng.randint(1, 16), _LINE_ENDS)
        return frame[: self.noise_rng.randrange(1, len(frame) - 2)]

    def garbage_bytes(self, frame: bytes) -> bytes:
        return self.random_bytes(len(frame), _LINE_ENDS)
