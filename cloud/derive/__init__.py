"""Derived data in the cloud: VN_AQI/VN_WQI points written to InfluxDB, the completeness ledger,
and the Thông tư 10/2021 station-file export. The index math is cloud/indices; this package reads
its inputs with InfluxQL and writes its outputs as line protocol."""

from cloud.derive.ledger import Row, completeness
from cloud.derive.recompute import Result, derive, recompute
from cloud.derive.service import DeriveService
from cloud.derive.tt10_export import ExportError, ExportResult, export_tt10

__all__ = [
    "DeriveService",
    "ExportError",
    "ExportResult",
    "Result",
    "Row",
    "completeness",
    "derive",
    "export_tt10",
    "recompute",
]
