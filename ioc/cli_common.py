"""What every ``ioc`` sub-command shares: consoles, logging, argument parsing, config loading."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from ioc.config import CityConfig

console = Console()
err_console = Console(stderr=True)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )


def host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def load_city_or_exit(path: Path) -> CityConfig:
    """The config, or every problem in it printed at once and exit code 2."""
    from firmware_bridge import registry
    from ioc.config import ConfigError, load_city

    try:
        return load_city(path, families=registry.config_specs())
    except ConfigError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None


def wait_for_signal(duration: float | None = None) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait(duration)


# The broker account and TLS of every MQTT client command (agent, ingest, alerts): one definition.
UsernameOption = Annotated[str | None, typer.Option(help="Broker account (`ioc cloud enrol-…`).")]
PasswordFileOption = Annotated[
    Path | None, typer.Option(help="File (mode 0600) holding the account's password.")
]
TlsCaOption = Annotated[
    str | None, typer.Option(help="Deployment CA: connect with TLS and verify the broker.")
]


def mqtt_credentials(username: str | None, password_file: str | Path | None) -> tuple[str, str] | None:
    """(username, password) from a secret file, or None without a username; exit 2 with the reason."""
    from ioc.secrets import InsecureFileError, read_secret

    if username is None:
        return None
    if password_file is None:
        err_console.print(f"[red]the broker account {username!r} needs a password file[/]")
        raise typer.Exit(2)
    try:
        return username, read_secret(Path(password_file))
    except (OSError, InsecureFileError) as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
