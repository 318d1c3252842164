"""The ``options:`` of a weigh-station device in a city config (a scale family extends this model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class WeighingOptions(BaseModel):
    """How live scale weights become vehicle weighings. Weights in kg, times in seconds."""

    model_config = ConfigDict(extra="forbid")

    # Required: Vietnamese gross limits depend on the axle count (Thông tư 46/2015/TT-BGTVT), which a
    # bare scale does not know, so no default could be right; one station-wide value for now.
    permitted_gross_kg: float = Field(gt=0, le=200_000, description="Permitted gross weight, kg.")
    tolerance_pct: float = Field(
        0.0, ge=0, le=50, description="Overload only above permitted × (1 + this/100)."
    )
    min_vehicle_kg: float = Field(500.0, gt=0, description="A vehicle is on the scale from this weight up.")
    zero_band_kg: float = Field(100.0, ge=0, description="Below this the scale is empty again.")
    stable_band_kg: float = Field(
        20.0, gt=0, description="Without a stable flag: max − min of a stable window."
    )
    stable_s: float = Field(
        2.0, gt=0, le=60, description="Without a stable flag: how long the band must hold."
    )
    new_vehicle_delta_kg: float = Field(
        1000.0,
        gt=0,
        description="A new stable weight further than this from the recorded one is a new vehicle.",
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> WeighingOptions:
        # Without a gap between "empty" and "vehicle" one axle bouncing at the threshold would make
        # a vehicle arrive and leave many times.
        if self.zero_band_kg >= self.min_vehicle_kg:
            raise ValueError(
                f"zero_band_kg ({self.zero_band_kg:g}) must be below min_vehicle_kg ({self.min_vehicle_kg:g})"
            )
        return self
