"""The v2 write path (influxdb-client) against a real server that speaks /api/v2/write:
VictoriaMetrics from Debian, since Debian's influxdb is a 1.x server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from cloud.influx_writer import InfluxV2Writer, WriteError
from cloud.points import to_line
from ioc.reading import Reading
from ioc.services import VictoriaMetrics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
TAGS = {"city": "bmt", "site": "bmt-aq01", "gateway": "bmt-gw01", "device": "pm01"}
T0 = 1_767_225_600_000_000_000


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    with VictoriaMetrics(tmp_path / "vm") as service:
        yield service


def export(vm: VictoriaMetrics, metric: str) -> list[dict]:
    http = urllib3.PoolManager()
    response = http.request("GET", f"{vm.url}/api/v1/export", fields={"match[]": metric})
    return [json.loads(line) for line in response.data.decode().splitlines() if line]


def test_v2_writer_round_trip(victoria: VictoriaMetrics) -> None:
    readings = [
        Reading("air_quality", TAGS, {"pm25": 10.0 + i, "pm10": 20.5}, T0 + i * 1_000_000_000)
        for i in range(5)
    ]
    writer = InfluxV2Writer(victoria.url, bucket="ioc")
    writer.write([to_line(r) for r in readings])
    http = urllib3.PoolManager()
    http.request("GET", f"{victoria.url}/internal/force_flush")
    series = export(victoria, "air_quality_pm25")
    assert len(series) == 1
    metric = series[0]["metric"]
    assert {k: metric[k] for k in TAGS} == TAGS
    assert series[0]["values"] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert series[0]["timestamps"] == [(T0 + i * 1_000_000_000) // 1_000_000 for i in range(5)]
    writer.close()


def test_v2_writer_says_when_to_retry(victoria: VictoriaMetrics) -> None:
    writer = InfluxV2Writer(victoria.url, bucket="ioc", timeout_s=2)
    victoria.stop()
    with pytest.raises(WriteError) as caught:
        writer.write(["air_quality,city=bmt pm25=1 1"])
    assert caught.value.retryable, "a server that is away is worth retrying"
    writer.close()
