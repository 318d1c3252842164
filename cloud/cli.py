"""`ioc cloud …`: the cloud side's commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cloud.alerts.cli import alerts_command
from cloud.api.cli import api_command, tokens_command
from cloud.derive.cli import derive_command, export_command, recompute_command
from cloud.security.cli import enrol_gateway_command, enrol_service_command, revoke_gateway_command
from ioc.cli_common import (
    PasswordFileOption,
    TlsCaOption,
    UsernameOption,
    console,
    err_console,
    host_port,
    mqtt_credentials,
    setup_logging,
    wait_for_signal,
)

cloud_app = typer.Typer(no_args_is_help=True, help="Cloud: ingest, derived indices, config push.")
cloud_app.command("recompute")(recompute_command)
cloud_app.command("derive")(derive_command)
cloud_app.command("export-tt10")(export_command)
cloud_app.command("alerts")(alerts_command)
cloud_app.command("api")(api_command)
cloud_app.add_typer(tokens_command, name="token")
cloud_app.command("enrol-gateway")(enrol_gateway_command)
cloud_app.command("enrol-service")(enrol_service_command)
cloud_app.command("revoke-gateway")(revoke_gateway_command)


@cloud_app.command("ingest")
def cloud_ingest(
    broker: Annotated[str, typer.Option(help="MQTT broker HOST:PORT.")] = "127.0.0.1:1883",
    influxdb: Annotated[str, typer.Option(help="InfluxDB URL.")] = "http://127.0.0.1:8086",
    database: Annotated[str, typer.Option(help="v1 database, or v2 bucket.")] = "ioc",
    api: Annotated[
        str, typer.Option(help="v1 (/write: InfluxDB 1.x) or v2 (/api/v2/write: 2.x, 3.x, Cloud, 1.8+).")
    ] = "v1",
    org: Annotated[str, typer.Option(help="v2 organisation.")] = "-",
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the v2 token.")
    ] = "INFLUXDB_TOKEN",
    worker_id: str = "ingest-1",
    cities: Annotated[str, typer.Option(help="Ingest only this city id ('+' for all).")] = "+",
    username: UsernameOption = None,
    password_file: PasswordFileOption = None,
    tls_ca: TlsCaOption = None,
    verbose: bool = False,
) -> None:
    """Run one ingest worker until SIGINT/SIGTERM; run more for more throughput."""
    import gc
    import os

    from cloud.influx_writer import InfluxV1Writer, InfluxV2Writer
    from cloud.ingest import IngestWorker

    setup_logging(verbose)
    host, port = host_port(broker)
    if api not in ("v1", "v2"):
        raise typer.BadParameter(f"--api is v1 or v2, not {api!r}")
    # The token comes from the environment, never from a command line that `ps` shows.
    writer = (
        InfluxV1Writer(influxdb, database)
        if api == "v1"
        else InfluxV2Writer(influxdb, database, os.environ.get(token_env, ""), org)
    )
    credentials = mqtt_credentials(username, password_file)
    # What is loaded by now lives as long as the process. Each batch makes ~10 000 short-lived
    # containers, which set off full collections; frozen, the modules are not walked every time.
    gc.freeze()
    worker = IngestWorker(
        host, port, writer, worker_id, cities=cities, credentials=credentials, tls_ca_file=tls_ca
    ).start()
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
