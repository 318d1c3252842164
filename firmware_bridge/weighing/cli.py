"""``ioc weighing …``: checks a weigh station's journal (the lead mounts ``weighing_app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from firmware_bridge.weighing.journal import JOURNAL_NAME, corrupt_path
from firmware_bridge.weighing.verify import verify_chain

weighing_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Weigh-station weighings and their hash chain."
)


@weighing_app.callback()
def _group() -> None:
    # A callback keeps ``verify`` a sub-command even while it is the only one.
    pass


@weighing_app.command("verify")
def verify(
    journal: Annotated[
        Path, typer.Argument(help=f"A {JOURNAL_NAME} file, or the device state folder that holds it.")
    ],
) -> None:
    """Re-compute every hash and link. Exit 0 intact, 1 broken, 2 unreadable."""
    # soft_wrap: a hash a technician compares by eye must never be folded or elided.
    console, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    path = journal / JOURNAL_NAME if journal.is_dir() else journal
    try:
        result = verify_chain(path)
    except OSError as exc:
        err.print(f"[red]cannot read {path}:[/red] {exc.strerror or exc}")
        raise typer.Exit(2) from None
    corrupt = corrupt_path(path)
    if corrupt.exists():
        with open(corrupt, "rb") as kept:
            fragments = sum(1 for _ in kept)
        console.print(
            f"[yellow]note:[/yellow] {fragments} torn fragment(s) from crashes were set aside in {corrupt}"
        )
    if result.ok:
        if result.count == 0:
            console.print(f"[green]OK[/green] {path}: no weighings yet")
        else:
            console.print(
                f"[green]OK[/green] {path}: {result.count} weighings, sequence 1–{result.last_sequence}, "
                f"last hash {result.last_hash}"
            )
            console.print(
                "Compare the last sequence and hash with the copy in InfluxDB: a chain cut short verifies."
            )
        raise typer.Exit(0)
    where = f"line {result.line}" + (f" (sequence {result.sequence})" if result.sequence is not None else "")
    console.print(f"[red]BROKEN[/red] {path} at {where}: [bold]{result.reason}[/bold]")
    console.print(f"  {result.detail}", markup=False)
    console.print(
        f"  {result.count} record(s) before it verify"
        + (f", up to sequence {result.last_sequence}" if result.last_sequence is not None else "")
    )
    raise typer.Exit(1)
