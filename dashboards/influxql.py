"""The InfluxQL query of Grafana's InfluxDB data source as a foundation-SDK dataquery.

The SDK ships builders for Prometheus, Loki, Elasticsearch … but none for InfluxDB, so this is the
"custom dataquery" the SDK documents (grafana-foundation-sdk ``examples/python/custom-query``): the
fields of a raw InfluxQL target as Grafana stores it in dashboard JSON (``query``, ``rawQuery``,
``resultFormat``, ``alias``), a builder, and a variant registered under the plugin id ``influxdb``
so that ``Dashboard.from_json`` turns such targets back into this type.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import DataSourceRef

PLUGIN_ID: Final = "influxdb"
DATASOURCE_UID: Final = "ioc-influxdb"
DATASOURCE: Final = DataSourceRef(type_val=PLUGIN_ID, uid=DATASOURCE_UID)

ResultFormat = Literal["time_series", "table"]


class InfluxQuery(cogvariants.Dataquery):
    """A raw InfluxQL target (Grafana's InfluxDB data source in InfluxQL mode)."""

    def __init__(
        self,
        query: str = "",
        ref_id: str | None = None,
        result_format: ResultFormat = "time_series",
        alias: str | None = None,
        hide: bool | None = None,
        datasource: DataSourceRef | None = None,
    ) -> None:
        self.query, self.ref_id, self.result_format = query, ref_id, result_format
        self.alias, self.hide, self.datasource = alias, hide, datasource

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.ref_id is not None:
            payload["refId"] = self.ref_id
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.hide is not None:
            payload["hide"] = self.hide
        if self.datasource is not None:
            payload["datasource"] = self.datasource.to_json()
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        source = data.get("datasource")
        return cls(
            query=data.get("query", ""),
            ref_id=data.get("refId"),
            result_format=data.get("resultFormat", "time_series"),
            alias=data.get("alias"),
            hide=data.get("hide"),
            datasource=DataSourceRef.from_json(source) if isinstance(source, dict) else None,
        )


class InfluxQueryBuilder(cogbuilder.Builder[InfluxQuery]):
    def __init__(self, query: str) -> None:
        self._internal = InfluxQuery(query=query, datasource=DATASOURCE)

    def build(self) -> InfluxQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Series name pattern: ``$tag_site``, ``$col``, ``$measurement``."""
        self._internal.alias = alias
        return self


def influxql(
    query: str, ref_id: str = "A", alias: str | None = None, table: bool = False
) -> InfluxQueryBuilder:
    """A target; queries are one line so the JSON and test failures stay readable."""
    built = InfluxQueryBuilder(" ".join(query.split())).ref_id(ref_id)
    if alias:
        built.alias(alias)
    return built.table() if table else built


_registered = False


def register() -> None:
    """Teach the SDK's JSON decoder the default panels and queries plus this one (idempotent)."""
    global _registered
    if not _registered:
        register_default_plugins()
        cogruntime.register_dataquery_variant(
            cogruntime.DataqueryConfig(identifier=PLUGIN_ID, from_json_hook=InfluxQuery.from_json)
        )
        _registered = True
