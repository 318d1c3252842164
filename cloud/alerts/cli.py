"""``ioc cloud alerts``: the command function; the lead mounts :func:`alerts_command` on ``cloud_app``."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from cloud.alerts.service import AlertService

NOTIFY_WAIT_S = 30.0  # --once: how long Grafana and the webhook may take before the command exits


def alerts_command(
    rules: Annotated[Path, typer.Option(help="Folder of alert rule files (*.yaml), or one file.")] = Path(
        "configs/alerts"
    ),
    influxdb: Annotated[str, typer.Option(help="InfluxDB URL (read with InfluxQL, alerts written).")] = (
        "http://127.0.0.1:8086"
    ),
    database: Annotated[str, typer.Option(help="InfluxDB database.")] = "ioc",
    broker: Annotated[str, typer.Option(help="MQTT broker HOST:PORT.")] = "127.0.0.1:1883",
    state: Annotated[Path, typer.Option(help="SQLite file keeping alert states.")] = Path(
        "var/alerts.sqlite"
    ),
    interval: Annotated[float, typer.Option(help="Seconds between evaluations.")] = 30.0,
    grafana_url: Annotated[str | None, typer.Option(help="Grafana URL for annotations.")] = None,
    grafana_token_env: Annotated[
        str, typer.Option(help="Environment variable holding the Grafana service account token.")
    ] = "GRAFANA_TOKEN",
    webhook: Annotated[str | None, typer.Option(help="POST every alert change as JSON to this URL.")] = None,
    once: Annotated[bool, typer.Option(help="Evaluate once, publish, print the changes and exit.")] = False,
    username: UsernameOption = None,
    password_file: PasswordFileOption = None,
    tls_ca: TlsCaOption = None,
    verbose: bool = False,
) -> None:
    """Evaluate the alert rules against InfluxDB every --interval seconds and publish state changes
    to the alerts measurement, MQTT (retained), Grafana annotations and a webhook."""
    from cloud.alerts.notify import GrafanaTarget
    from cloud.alerts.service import AlertService
    from cloud.influx_query import InfluxQuery
    from cloud.influx_writer import InfluxV1Writer
    from ioc.config import ConfigError

    setup_logging(verbose)
    if interval <= 0:
        raise typer.BadParameter("--interval must be positive")
    mqtt = host_port(broker)
    # The token comes from the environment, never from a command line that `ps` shows.
    grafana = GrafanaTarget(grafana_url, os.environ.get(grafana_token_env, "")) if grafana_url else None
    try:
        service = AlertService(
            rules,
            InfluxQuery(influxdb, database),
            InfluxV1Writer(influxdb, database),
            mqtt,
            state,
            grafana=grafana,
            webhook=webhook,
            interval_s=interval,
            mqtt_credentials=mqtt_credentials(username, password_file),
            mqtt_tls_ca=tls_ca,
        )
    except ConfigError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    except (OSError, sqlite3.Error) as exc:
        err_console.print(f"[bold red]cannot open the state file {state}: {exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    try:
        if once:
            _once(service)
            return
        logging.getLogger("cloud").info(
            "alerts: %d rules from %s, every %.0f s → %s/%s, mqtt %s", len(service.rules), rules, interval,
            influxdb, database, broker,
        )  # fmt: skip
        stop = threading.Event()
        worker = threading.Thread(target=service.run, args=(stop,), name="alerts", daemon=True)
        worker.start()
        wait_for_signal()
        stop.set()
        worker.join(timeout=60)
    finally:
        service.close()


def _once(service: AlertService) -> None:
    service.mqtt.connected.wait(10.0)
    changes = service.run_once()
    for t in changes:
        colour = {"firing": "red", "acknowledged": "yellow", "resolved": "green"}.get(t.state, "white")
        console.print(f"[{colour}]{t.state:<9}[/] {t.severity:<8} {t.message}", highlight=False)
    waiting = len(service.store.undispatched())
    service.notifier.flush(NOTIFY_WAIT_S)
    active = service.store.active()
    console.print(f"{len(service.rules)} rules, {len(changes)} changes, {len(active)} active alerts")
    if waiting:
        err_console.print(f"[yellow]{waiting} changes not yet published (InfluxDB or broker away)[/]")
        raise typer.Exit(1)
