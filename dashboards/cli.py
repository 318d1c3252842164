"""``ioc dashboards build|push``: the command functions; the lead mounts them on a ``dashboards``
sub-app (``dashboards_app.command("build")(build_command)``, the same for push).

The Grafana libraries are imported inside the commands, so ``ioc`` starts without them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ioc.cli_common import console, err_console, load_city_or_exit

if TYPE_CHECKING:
    from dashboards.provisioning import InfluxSource
    from ioc.config import CityConfig

ConfigOpt = Annotated[Path, typer.Option("--config", help="City config YAML (configs/cities/…).")]
LocaleOpt = Annotated[str, typer.Option("--locale", help="Wall labels: vi (Vietnamese) or en.")]
ApiOpt = Annotated[
    str,
    typer.Option("--influx-api", help="v1: InfluxDB 1.x; v2: InfluxDB 2.x/3.x (InfluxQL via DBRP, token)."),
]
InfluxUrlOpt = Annotated[
    str | None,
    typer.Option("--influxdb-url", help="InfluxDB as Grafana's server reaches it (default: the config's)."),
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database", help="Database, or DBRP database name (default: the config's).")
]
InfluxTokenOpt = Annotated[
    str, typer.Option("--influx-token-env", help="Environment variable with the InfluxDB 2.x token.")
]
GrafanaOpt = Annotated[str, typer.Option("--grafana-url", help="Grafana's base URL.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for the provisioning files.")]
PathOpt = Annotated[
    str | None, typer.Option(help="Where the dashboard JSON will be on the Grafana host (default: --out).")
]
TokenOpt = Annotated[
    str, typer.Option("--token-env", help="Environment variable with a Grafana service-account token.")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]


def _check_locale(locale: str) -> None:
    from dashboards.i18n import LOCALES

    if locale not in LOCALES:
        raise typer.BadParameter(f"--locale is one of {', '.join(LOCALES)}, not {locale!r}")


def _source(
    config_path: Path, api: str, url: str | None, database: str | None, token_env: str
) -> tuple[CityConfig, InfluxSource]:
    from dashboards.provisioning import InfluxSource

    if api not in ("v1", "v2"):
        raise typer.BadParameter(f"--influx-api is v1 or v2, not {api!r}")
    config = load_city_or_exit(config_path)
    url, database = url or config.influxdb.url, database or config.influxdb.database
    return config, InfluxSource(url, database, "v2" if api == "v2" else "v1", token_env)


def build_command(
    config: ConfigOpt,
    out: OutOpt = Path("var/grafana"),
    locale: LocaleOpt = "vi",
    influx_api: ApiOpt = "v1",
    influxdb_url: InfluxUrlOpt = None,
    database: DatabaseOpt = None,
    influx_token_env: InfluxTokenOpt = "INFLUXDB_TOKEN",
    dashboards_path: PathOpt = None,
    grafana_url: GrafanaOpt = "http://localhost:3000",
) -> None:
    """Write Grafana provisioning files for the city's wall: data source, dashboard provider,
    dashboards, and the playlist's API body."""
    from dashboards.provisioning import instructions, make_bundle, write_files

    _check_locale(locale)
    city, source = _source(config, influx_api, influxdb_url, database, influx_token_env)
    bundle = make_bundle(city, locale, source)
    try:
        written = write_files(bundle, source, out, dashboards_path)
    except OSError as exc:
        err_console.print(f"[red]cannot write {out}: {exc.strerror or exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"[green]✓[/] {len(bundle.dashboards)} dashboards for {city.city.name}:")
    # Plain echo: paths and URLs must not be wrapped, operators copy them.
    for path in written.files:
        typer.echo(f"  {path}")
    typer.echo(instructions(bundle, written, source, grafana_url))


def push_command(
    config: ConfigOpt,
    grafana_url: GrafanaOpt = "http://localhost:3000",
    token_env: TokenOpt = "GRAFANA_TOKEN",
    dry_run: DryRunOpt = False,
    locale: LocaleOpt = "vi",
    influx_api: ApiOpt = "v1",
    influxdb_url: InfluxUrlOpt = None,
    database: DatabaseOpt = None,
    influx_token_env: InfluxTokenOpt = "INFLUXDB_TOKEN",
) -> None:
    """Create or update the wall in a running Grafana: folder, data source, dashboards, playlist.
    A second run changes nothing; --dry-run only says what would change."""
    from dashboards.provisioning import make_bundle
    from dashboards.push import PushError, connect, push

    _check_locale(locale)
    city, source = _source(config, influx_api, influxdb_url, database, influx_token_env)
    # Tokens come from the environment, never from a command line that `ps` shows.
    influx_token = os.environ.get(influx_token_env) or None
    if influx_api == "v2" and not influx_token:
        raise typer.BadParameter(f"--influx-api v2 needs the InfluxDB token in ${influx_token_env}")
    bundle = make_bundle(city, locale, source, token=influx_token if influx_api == "v2" else None)
    token = os.environ.get(token_env) or None
    if token is None:
        err_console.print(f"[yellow]${token_env} is not set: calling Grafana without a token[/]")
    try:
        changes, playlist_uid = push(connect(grafana_url, token), bundle, dry_run)
    except PushError as exc:
        err_console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    for change in changes:
        typer.echo(change.describe(dry_run))
    pending = sum(c.action != "unchanged" for c in changes)
    typer.echo(f"{pending} {'would change' if dry_run else 'changed'}, {len(changes) - pending} unchanged")
    if not dry_run:
        typer.echo(f"Wall: {bundle.playlist_url(grafana_url, playlist_uid)}")
