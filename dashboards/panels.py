"""Panel factories with the wall's look: large text, colours by meaning, names from the config."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from grafana_foundation_sdk.builders import bargauge, stat, statetimeline, table, text, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, TableSortByFieldState, VizLegendOptions
from grafana_foundation_sdk.builders.common import VizTextDisplayOptions as TextSize
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    BigValueTextMode,
    FieldTextAlignment,
    LegendDisplayMode,
    LegendPlacement,
    TableCellHeight,
    VisibilityMode,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardRangeMapOptions,
    DynamicConfigValue,
    RangeMap,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
)
from grafana_foundation_sdk.models.text import TextMode

from cloud.indices.aqi import Band
from ioc.config import CityConfig

Step = tuple[float | None, str]  # (lower bound, colour); None is the base colour below every step
OK, WARN, BAD, IDLE = "green", "orange", "red", "#808080"


def thresholds(steps: Sequence[Step]) -> ThresholdsConfig:
    return (
        ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=colour) for value, colour in steps])
    )


def band_steps(bands: Iterable[Band]) -> list[Step]:
    """Index bands as threshold steps: one colour per published band, from its lowest value."""
    ordered = sorted(bands, key=lambda b: b.low)
    return [(None, ordered[0].hex), *((b.low, b.hex) for b in ordered[1:])]


def band_mappings(bands: Iterable[Band], locale: str) -> list[ValueMapping]:
    """Each band's range shown as its label (Vietnamese or English) in its colour. Bands cover
    integers; the range reaches up to the next band so a mean like 50.4 still finds its band."""
    ordered = sorted(bands, key=lambda b: b.low)
    mappings: list[ValueMapping] = []
    for i, band in enumerate(ordered):
        upper = ordered[i + 1].low - 1e-9 if i + 1 < len(ordered) else float(band.high)
        result = ValueMappingResult(text=band.vi if locale == "vi" else band.en, color=band.hex, index=i)
        mappings.append(
            RangeMap(options=DashboardRangeMapOptions(from_val=band.low, to=upper, result=result))
        )
    return mappings


def text_mappings(values: Mapping[str, tuple[str, str]]) -> list[ValueMapping]:
    """value → (text, colour)."""
    return [
        ValueMap(
            options={
                value: ValueMappingResult(text=label, color=colour, index=i)
                for i, (value, (label, colour)) in enumerate(values.items())
            }
        )
    ]


def legend_html(bands: Iterable[Band], locale: str, caption: str) -> str:
    """A band legend for a text panel: each chip says its range and label, so it reads even where
    Grafana's HTML sanitiser strips the inline colour."""
    chips = []
    for band in sorted(bands, key=lambda b: b.low):
        label = html.escape(band.vi if locale == "vi" else band.en)
        fg = "#000" if sum(band.rgb) > 380 else "#fff"
        chips.append(
            f'<div style="background:{band.hex};color:{fg};padding:4px 8px;margin:2px 0;font-size:22px">'
            f"<b>{band.low}–{band.high}</b> {label}</div>"
        )
    return f'<div style="font-size:20px">{html.escape(caption)}</div>' + "".join(chips)


def big_stat(title: str, unit: str = "none") -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .unit(unit)
        .color_mode(BigValueColorMode.BACKGROUND)
        .graph_mode(BigValueGraphMode.NONE)
        .text_mode(BigValueTextMode.VALUE_AND_NAME)
        .orientation(VizOrientation.AUTO)
        .text(TextSize().title_size(22).value_size(56))
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def counter(title: str, steps: Sequence[Step], unit: str = "none") -> stat.Panel:
    """A single big number for the overview strip; no data counts as 0 (nothing to count)."""
    return big_stat(title, unit).text_mode(BigValueTextMode.VALUE).thresholds(thresholds(steps)).no_value("0")


def wall_table(title: str, sort_by: str | None = None) -> table.Panel:
    # align and inspect are the table's defaults, written out so the JSON survives the SDK's
    # from_json round trip unchanged (from_json fills them in).
    panel = (
        table.Panel()
        .title(title)
        .cell_height(TableCellHeight.LG)
        .show_header(True)
        .align(FieldTextAlignment.AUTO)
        .inspect(False)
    )
    if sort_by:
        panel.sort_by([TableSortByFieldState().display_name(sort_by).desc(True)])
    return panel


def series(title: str, unit: str = "none") -> timeseries.Panel:
    return (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .line_width(3)
        .fill_opacity(10)
        .show_points(VisibilityMode.NEVER)
        .legend(
            VizLegendOptions()
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )


def bars(title: str, unit: str = "none") -> bargauge.Panel:
    return (
        bargauge.Panel()
        .title(title)
        .unit(unit)
        .display_mode(BarGaugeDisplayMode.BASIC)
        .orientation(VizOrientation.HORIZONTAL)
        .text(TextSize().title_size(18).value_size(24))
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def timeline(title: str) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .show_value(VisibilityMode.NEVER)
        .merge_values(True)
        .row_height(0.8)
        .fill_opacity(90)
        .legend(VizLegendOptions().show_legend(True).display_mode(LegendDisplayMode.LIST))
    )


def note(title: str, content: str) -> text.Panel:
    return text.Panel().title(title).mode(TextMode.HTML).content(content)


def site_names(panel: object, config: CityConfig, suffix: str = "") -> None:
    """Series aliased ``$tag_site…`` get the station's name from the config as display name."""
    for site in config.sites:
        properties = [DynamicConfigValue(id_val="displayName", value=site.name + suffix)]
        panel.override_by_name(site.id + suffix, properties)  # type: ignore[attr-defined]


def coloured_column(panel: object, name: str, steps: Sequence[Step], unit: str | None = None) -> None:
    """A table column whose cells take the colour of ``steps``."""
    properties = [
        DynamicConfigValue(id_val="thresholds", value=thresholds(steps).build()),
        DynamicConfigValue(id_val="color", value={"mode": "thresholds"}),
        DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"}),
    ]
    if unit:
        properties.append(DynamicConfigValue(id_val="unit", value=unit))
    panel.override_by_name(name, properties)  # type: ignore[attr-defined]


def site_column(panel: object, config: CityConfig, label: str) -> None:
    """The ``site`` tag column of a table shows the station's name."""
    names = text_mappings({s.id: (s.name, "text") for s in config.sites})
    properties = [
        DynamicConfigValue(id_val="displayName", value=label),
        DynamicConfigValue(id_val="mappings", value=names),
    ]
    panel.override_by_name("site", properties)  # type: ignore[attr-defined]


def hide_columns(panel: object, *names: str) -> None:
    for name in names:
        panel.override_by_name(name, [DynamicConfigValue(id_val="custom.hidden", value=True)])  # type: ignore[attr-defined]


def override(panel: object, name: str, properties: Mapping[str, object]) -> None:
    """Field config for the field named ``name``: property id → value."""
    values = [DynamicConfigValue(id_val=key, value=value) for key, value in properties.items()]
    panel.override_by_name(name, values)  # type: ignore[attr-defined]
