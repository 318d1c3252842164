"""``ioc aqi``: the command function; the lead mounts :func:`aqi_command` on the top-level app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def aqi_command(
    input: Annotated[
        Path,
        typer.Option(
            "--input", help="CSV of hourly means: station,time,pollutant,value (µg/m³, time with offset)."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the AQI CSV here (default: stdout).")
    ] = None,
) -> None:
    """Hourly and daily VN_AQI (QĐ 1459/QĐ-TCMT) per station, as CSV: station,kind,time,aqi,dominant."""
    from cloud.indices.aqi_csv import AqiInputError, compute, read_hourly, write_rows

    try:
        stations = read_hourly(input)
    except AqiInputError as exc:
        typer.echo(str(exc), err=True)
        typer.echo(f"{input}: nothing computed; fix the lines above and run again", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"cannot read {input}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    rows = compute(stations)
    if output is None:
        write_rows(rows, sys.stdout)
        return
    try:
        with output.open("w", newline="", encoding="utf-8") as handle:
            write_rows(rows, handle)
    except OSError as exc:
        typer.echo(f"cannot write {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
