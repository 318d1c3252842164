"""Command functions the ``ioc`` CLI mounts: ``ioc cloud api`` (api_command) and
``ioc cloud token create|list|revoke`` (the tokens_command group)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from ioc.cli_common import console, err_console, host_port

DEFAULT_STATE = Path("var/api/state.db")
StateOption = Annotated[Path, typer.Option(help="The API's SQLite state file.")]


def api_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8480,
    configs: Annotated[Path, typer.Option(help="Configs folder; serves every cities/*.yaml in it.")] = Path(
        "configs"
    ),
    state: StateOption = DEFAULT_STATE,
    security_dir: Annotated[
        Path | None, typer.Option(help="Enable gateway enrolment with this `ioc certs`/accounts folder.")
    ] = None,
    broker_pid_file: Annotated[
        Path | None, typer.Option(help="The broker's pid file (reload on enrol).")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="Serve HTTPS with this certificate …")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="… and this key (mode 0600).")] = None,
    alerts_state: Annotated[
        Path, typer.Option(help="The alert service's state file (`ioc cloud alerts --state`).")
    ] = Path("var/alerts.sqlite"),
    influxdb: Annotated[str, typer.Option(help="InfluxDB URL (v1 /query).")] = "http://127.0.0.1:8086",
    database: Annotated[str, typer.Option(help="InfluxDB database.")] = "ioc",
    broker: Annotated[
        str, typer.Option(help="MQTT broker HOST:PORT for publishing configs; '' stores versions only.")
    ] = "127.0.0.1:1883",
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding an InfluxDB token.")
    ] = "INFLUXDB_TOKEN",
) -> None:
    """Serve the operations center's API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    from cloud.api.app import create_app
    from cloud.api.settings import ApiSettings, BrokerAddress
    from cloud.api.state import StateError
    from ioc.config import ConfigError

    broker_address = None
    if broker:
        broker_host, broker_port = host_port(broker)
        broker_address = BrokerAddress(host=broker_host, port=broker_port)
    settings = ApiSettings(
        configs_dir=configs,
        state_path=state,
        alerts_state_path=alerts_state,
        security_dir=security_dir,
        broker_pid_file=broker_pid_file,
        influxdb_url=influxdb,
        influxdb_token=os.environ.get(token_env, ""),  # type: ignore[arg-type]  # pydantic wraps it
        database=database,
        broker=broker_address,
    )
    try:
        app = create_app(settings)
    except (ConfigError, StateError) as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    if (tls_cert is None) != (tls_key is None):
        err_console.print("[red]--tls-cert and --tls-key go together[/]")
        raise typer.Exit(2)
    if tls_key is not None:
        from ioc.secrets import InsecureFileError, check_private

        try:
            check_private(tls_key)
        except (OSError, InsecureFileError) as exc:
            err_console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


tokens_command = typer.Typer(no_args_is_help=True, help="API tokens: create (shown once), list, revoke.")


def _state(path: Path):  # the import stays lazy for the CLI's start-up time
    from cloud.api.state import State, StateError

    try:
        return State(path)
    except StateError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None


def _who() -> str:
    return f"cli:{getpass.getuser()}"


@tokens_command.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="Who the token is for, e.g. an e-mail address.")],
    role: Annotated[str, typer.Option(help="operator, engineer, technician or admin.")],
    ttl_days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
    state: StateOption = DEFAULT_STATE,
) -> None:
    """Create a token and print it once: it is stored only as its hash."""
    from cloud.api.tokens import TokenError, issue

    try:
        secret, info = issue(_state(state), user, role, ttl_days, _who())
    except TokenError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    err_console.print(
        f"token {info.id} for {info.user} ({info.role}), valid {ttl_days} days; shown only now:"
    )
    print(secret)  # alone on stdout, so scripts can capture it


@tokens_command.command("list")
def token_list(state: StateOption = DEFAULT_STATE) -> None:
    """Every token: id, user, role, expiry, revoked (never the secrets)."""
    from rich.table import Table

    from cloud.api.models import from_ns
    from cloud.api.tokens import list_tokens, problem

    table = Table("id", "user", "role", "expires", "status")
    for t in list_tokens(_state(state)):
        table.add_row(t.id, t.user, t.role, f"{from_ns(t.expires_ns):%Y-%m-%d %H:%M}Z", problem(t) or "valid")
    console.print(table)


@tokens_command.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id `ioc cloud token list` shows.")],
    state: StateOption = DEFAULT_STATE,
) -> None:
    """Revoke a token at once (the API checks every request)."""
    from cloud.api.tokens import revoke_token

    if not revoke_token(_state(state), token_id, _who()):
        err_console.print(f"[bold red]no token {token_id!r}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {token_id}")
