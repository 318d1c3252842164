"""`ioc edge …`: run, check and watch the gateway agent."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ioc.cli_common import (
    PasswordFileOption,
    TlsCaOption,
    UsernameOption,
    console,
    err_console,
    host_port,
    load_city_or_exit,
    mqtt_credentials,
    setup_logging,
    wait_for_signal,
)

if TYPE_CHECKING:
    from ioc.config import CityConfig, TlsFiles

edge_app = typer.Typer(no_args_is_help=True, help="The gateway agent.")
DEFAULT_STATUS = "0.0.0.0:8470"  # the LAN, so a technician's phone reaches the page


def _tls(city: CityConfig, tls_ca: str | None, direct_influxdb: str | None) -> TlsFiles | None:
    """The uplink's TLS; plain TCP only when the config says `mqtt.plain: true`."""
    from ioc.config import TlsFiles

    tls = TlsFiles(ca_file=tls_ca) if tls_ca else city.mqtt.tls
    if tls is None and not city.mqtt.plain and direct_influxdb is None:
        err_console.print(
            "[red]mqtt: no TLS settings. Set mqtt.tls.ca_file (or --tls-ca), or mqtt.plain: true "
            "for a broker on a trusted network.[/]"
        )
        raise typer.Exit(2)
    return tls


@edge_app.command("run")
def edge_run(
    config: Path,
    gateway: Annotated[str, typer.Option(help="Which gateway of the config this agent is.")],
    broker: Annotated[
        str | None, typer.Option(help="HOST:PORT, overriding the config's mqtt section.")
    ] = None,
    port: Annotated[list[str], typer.Option(help="DEVICE=PATH: read DEVICE from PATH instead.")] = [],  # noqa: B006
    state_dir: Annotated[Path, typer.Option(help="Buffer and device state (must survive reboots).")] = Path(
        "var/edge"
    ),
    status: Annotated[str, typer.Option(help="HOST:PORT of the status page, or 'off'.")] = DEFAULT_STATUS,
    quota_mb: Annotated[float | None, typer.Option(help="Disk quota of the buffer in MB.")] = None,
    username: UsernameOption = None,
    password_file: PasswordFileOption = None,
    tls_ca: TlsCaOption = None,
    direct_influxdb: Annotated[
        str | None, typer.Option(help="Write straight to this InfluxDB URL (no broker; small sites).")
    ] = None,
    remote_config: Annotated[bool, typer.Option(help="Follow the config the cloud publishes.")] = True,
    rollback_after_s: Annotated[
        float, typer.Option(help="Roll a remote config back when a device reads nothing this long.")
    ] = 300.0,
    verbose: bool = False,
) -> None:
    """Run the gateway agent until SIGINT/SIGTERM."""
    from edge.agent import AgentOptions, EdgeAgent
    from edge.remote_config import RemoteConfig
    from edge.status import agent_state
    from edge.status_server import StatusServer

    setup_logging(verbose)
    city = load_city_or_exit(config)
    host, mqtt_port = host_port(broker) if broker else (city.mqtt.host, city.mqtt.port)
    overrides = dict(item.split("=", 1) for item in port)
    options = AgentOptions(
        host,
        mqtt_port,
        city.mqtt.batch_max_readings,
        state_dir=state_dir,
        commit_interval_s=city.mqtt.commit_interval_s,
        quota_mb=quota_mb,
        tls=_tls(city, tls_ca, direct_influxdb),
        credentials=mqtt_credentials(
            username or city.mqtt.username, password_file or city.mqtt.password_file
        ),
        direct_influxdb=(direct_influxdb, city.influxdb.database) if direct_influxdb else None,
    )
    remote = None
    agent = EdgeAgent(city, gateway, options, overrides)
    if remote_config:
        remote = RemoteConfig(agent, city, rollback_after_s)
        agent.apply(remote.restore())
        remote.start()
    agent.start()
    log = logging.getLogger("edge")
    log.info("gateway %s: %d devices, uplink %s:%d", gateway, len(agent.devices), host, mqtt_port)
    page = None
    if status != "off":
        status_host, status_port = host_port(status)
        page = StatusServer(lambda: agent_state(agent), status_host, status_port).start()
        log.info("status page on http://%s:%d/", status_host, status_port)
    wait_for_signal()
    if page:
        page.stop()
    if remote:
        remote.stop()
    agent.stop()


@edge_app.command("check")
def edge_check(
    config: Path,
    gateway: Annotated[str | None, typer.Option(help="Check only this gateway's devices.")] = None,
) -> None:
    """Validate the config (every problem at once, with file:line) and look at each device's port."""
    from edge.checks import port_problems

    city = load_city_or_exit(config)
    table = Table(title=f"{config}: devices", title_justify="left")
    for column in ("gateway", "device", "family", "port", "check"):
        table.add_column(column)
    failures = 0
    for gw, device in city.devices():
        if gateway and gw.id != gateway:
            continue
        problem = port_problems(device)
        failures += problem is not None
        table.add_row(
            gw.id,
            device.id,
            device.family,
            device.port or "-",
            f"[yellow]{problem}[/]" if problem else "[green]ok[/]",
        )
    console.print(table)
    if failures:
        err_console.print(f"[yellow]{failures} device(s) need attention on this gateway[/]")
        raise typer.Exit(1)


@edge_app.command("status")
def edge_status(
    url: Annotated[str, typer.Option(help="The agent's status page.")] = "http://127.0.0.1:8470",
) -> None:
    """Show a running agent's devices, buffer and uplink."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/status", timeout=5) as response:
            state = json.load(response)
    except OSError as exc:
        err_console.print(f"[red]No agent answers at {url}: {exc}[/] (is `ioc edge run` running? --status?)")
        raise typer.Exit(2) from None
    uplink = "[green]connected[/]" if state["uplink_connected"] else "[red]offline[/]"
    console.print(
        f"gateway [bold]{state['gateway']}[/] ({state['city']}): uplink {uplink}, "
        f"buffer {state['buffer_depth']} readings, oldest {state['oldest_unsent_s']} s"
    )
    table = Table()
    for column in ("device", "family", "port", "state", "readings", "last", "age s", "errors"):
        table.add_column(column)
    for d in state["devices"]:
        last = ", ".join(f"{k}={v}" for k, v in d["last_fields"].items())
        table.add_row(
            d["id"],
            d["family"],
            d["port"] or "-",
            "[green]up[/]" if d["connected"] else "[red]down[/]",
            str(d["produced"]),
            last,
            "-" if d["last_age_s"] is None else str(d["last_age_s"]),
            f"{d['errors']} {d['last_error']}".strip() if d["errors"] else "0",
        )
    console.print(table)
