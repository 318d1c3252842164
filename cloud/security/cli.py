"""`ioc certs init`, `ioc cloud enrol-gateway|enrol-service|revoke-gateway`: the deployment's CA
and the broker accounts. Passwords are printed once and never stored in clear."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ioc.cli_common import console, err_console

SECURITY_DIR = Path("var/security")
DirOption = Annotated[
    Path, typer.Option(help="Where the CA, the account registry and the broker's files live.")
]
PidOption = Annotated[int | None, typer.Option(help="The broker's pid: reload it now (SIGHUP, no restart).")]


def certs_init_command(
    dir: DirOption = SECURITY_DIR,
    name: Annotated[list[str], typer.Option(help="A name the broker is reached by (repeatable).")] = [],  # noqa: B006
) -> None:
    """Make the deployment CA (kept if it exists) and the broker's server certificate."""
    from cloud.security.certs import DEFAULT_SERVER_NAMES, init_certs

    paths = init_certs(dir / "certs", [*DEFAULT_SERVER_NAMES, *name])
    console.print(
        f"CA: {paths.ca_cert}\nserver certificate: {paths.server_cert} (key {paths.server_key}, mode 0600)"
    )
    console.print("Copy the CA certificate to every gateway (mqtt.tls.ca_file in the city config).")


def _registry(dir: Path):
    from cloud.security.accounts import Registry

    return Registry(dir / "accounts")


def enrol_gateway_command(
    city: str,
    gateway: str,
    dir: DirOption = SECURITY_DIR,
    rotate: bool = False,
    broker_pid: PidOption = None,
) -> None:
    """Create (or with --rotate renew) a gateway's broker account; prints the password once."""
    from cloud.security.accounts import RegistryError

    try:
        credentials = _registry(dir).enrol_gateway(city, gateway, rotate=rotate, broker_pid=broker_pid)
    except RegistryError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"username: {credentials.username}\npassword: {credentials.password}")
    console.print("Put the password in a file of mode 0600 on the gateway (mqtt.password_file).")


def enrol_service_command(
    role: str,
    name: Annotated[str | None, typer.Option()] = None,
    dir: DirOption = SECURITY_DIR,
    rotate: bool = False,
    broker_pid: PidOption = None,
) -> None:
    """An account for a cloud service: ingest, api or alerts."""
    from cloud.security.accounts import RegistryError

    try:
        credentials = _registry(dir).enrol_service(role, name, rotate=rotate, broker_pid=broker_pid)
    except RegistryError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"username: {credentials.username}\npassword: {credentials.password}")


def revoke_gateway_command(
    city: str,
    gateway: str,
    dir: DirOption = SECURITY_DIR,
    broker_pid: PidOption = None,
) -> None:
    """Cut a gateway off (with --broker-pid at once, open connection included)."""
    from cloud.security.accounts import RegistryError

    try:
        _registry(dir).revoke_gateway(city, gateway, broker_pid=broker_pid)
    except RegistryError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"revoked {city}/{gateway}")
