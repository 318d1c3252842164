"""`ioc cloud …`: the cloud side's commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ioc.cli_common import console, err_console, host_port, setup_logging, wait_for_signal

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


@cloud_app.command("push-config")
def cloud_push_config(
    config: Path,
    version: Annotated[str, typer.Option(help="A name for this version, e.g. 2026-11-26.1")],
    broker: Annotated[str, typer.Option(help="MQTT broker HOST:PORT.")] = "127.0.0.1:1883",
    gateway: Annotated[
        list[str], typer.Option(help="Only these gateways (default: all in the config).")
    ] = [],  # noqa: B006
    wait_s: float = 10.0,
) -> None:
    """Publish CONFIG as the desired config of its gateways and show each agent's answer."""
    from cloud.config_push import push_config
    from ioc.config import ConfigError

    host, port = host_port(broker)
    try:
        acks = push_config(config, host, port, version, gateway or None, wait_s)
    except ConfigError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    failed = 0
    for gw, ack in acks.items():
        if ack is None:
            console.print(
                f"{gw}: [yellow]no answer in {wait_s:.0f} s[/] (offline? it gets the config when back)"
            )
            continue
        ok = ack["status"] in ("applied", "unchanged")
        failed += not ok
        problems = "; ".join(str(p) for p in ack.get("problems") or [])  # type: ignore[union-attr]
        console.print(f"{gw}: [{'green' if ok else 'red'}]{ack['status']}[/] {problems}")
    if failed:
        raise typer.Exit(1)
