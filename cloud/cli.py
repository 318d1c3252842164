"""`ioc cloud …`: the cloud side's commands."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from ioc.cli_common import host_port, setup_logging, wait_for_signal

cloud_app = typer.Typer(no_args_is_help=True, help="Cloud ingest.")


@cloud_app.command("ingest")
def cloud_ingest(
    broker: Annotated[str, typer.Option(help="MQTT broker HOST:PORT.")] = "127.0.0.1:1883",
    influxdb: Annotated[str, typer.Option(help="InfluxDB URL (v1 /write API).")] = "http://127.0.0.1:8086",
    database: str = "ioc",
    worker_id: str = "ingest-1",
    cities: Annotated[str, typer.Option(help="Ingest only this city id ('+' for all).")] = "+",
    verbose: bool = False,
) -> None:
    """Run one ingest worker until SIGINT/SIGTERM; run more for more throughput."""
    from cloud.influx_writer import InfluxV1Writer
    from cloud.ingest import IngestWorker

    setup_logging(verbose)
    host, port = host_port(broker)
    worker = IngestWorker(host, port, InfluxV1Writer(influxdb, database), worker_id, cities=cities).start()
    logging.getLogger("cloud").info("%s: %s:%d → %s/%s", worker_id, host, port, influxdb, database)
    wait_for_signal()
    worker.stop()
