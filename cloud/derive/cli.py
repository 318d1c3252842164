"""Command functions the lead mounts on ``ioc cloud``: ``recompute``, ``derive``, ``export-tt10``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ioc.cli_common import console, err_console, load_city_or_exit, setup_logging, wait_for_signal

if TYPE_CHECKING:
    from cloud.derive.recompute import Result
    from cloud.influx_query import InfluxQuery
    from cloud.influx_writer import InfluxV1Writer
    from ioc.config import CityConfig

ConfigOption = Annotated[Path, typer.Option("--config", help="City config (configs/cities/*.yaml).")]
FromOption = Annotated[
    str,
    typer.Option("--from", help="Start: ISO 8601 with offset (2026-01-15T08:00:00+07:00) or a date."),
]
ToOption = Annotated[str, typer.Option("--to", help="End (excluded), same forms as --from.")]
InfluxOption = Annotated[
    str | None, typer.Option("--influxdb", help="InfluxDB URL (default: the config's influxdb.url).")
]
DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="Database (default: the config's influxdb.database).")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]{message}[/]", highlight=False)
    return typer.Exit(code)


def _range(config: CityConfig, start: str, end: str) -> tuple[int, int]:
    from cloud.derive.clock import LocalClock, parse_instant

    clock = LocalClock(config.city.timezone)
    bounds = []
    for option, text in (("--from", start), ("--to", end)):
        try:
            bounds.append(parse_instant(text, clock))
        except ValueError as exc:
            raise _fail(f"{option}: {exc}") from None
    if bounds[1] <= bounds[0]:
        raise _fail(f"--to {end!r} must be after --from {start!r}")
    return bounds[0], bounds[1]


def _clients(
    config: CityConfig, influxdb: str | None, database: str | None
) -> tuple[InfluxQuery, InfluxV1Writer]:
    from cloud.influx_query import InfluxQuery
    from cloud.influx_writer import InfluxV1Writer

    url, db = influxdb or config.influxdb.url, database or config.influxdb.database
    return InfluxQuery(url, db), InfluxV1Writer(url, db)


@contextmanager
def _database_errors() -> Iterator[None]:
    from cloud.influx_query import QueryError
    from cloud.influx_writer import WriteError

    try:
        yield
    except (QueryError, WriteError) as exc:
        raise _fail(str(exc), 1) from None


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    # Only on a terminal: in a log or a cron mail a progress bar is noise.
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _summary(result: Result) -> str:
    points = ", ".join(f"{name} {count}" for name, count in sorted(result.points.items())) or "none"
    return f"hours: {result.hours}, days: {result.days}; points written: {points}"


def recompute_command(
    config: ConfigOption,
    start: FromOption,
    end: ToOption,
    influxdb: InfluxOption = None,
    database: DatabaseOption = None,
    ledger: Annotated[bool, typer.Option(help="Also recompute the completeness ledger.")] = True,
) -> None:
    """Recompute hourly/daily VN_AQI, hourly VN_WQI and the completeness ledger for a time range
    (idempotent: points are overwritten)."""
    from cloud.derive.recompute import recompute

    city = load_city_or_exit(config)
    start_ns, end_ns = _range(city, start, end)
    query, writer = _clients(city, influxdb, database)
    with _database_errors(), _progress("recomputing") as progress:
        result = recompute(query, writer, city, start_ns, end_ns, with_ledger=ledger, progress=progress)
    console.print(f"{city.city.id}: {_summary(result)}", highlight=False)


def derive_command(
    config: ConfigOption,
    influxdb: InfluxOption = None,
    database: DatabaseOption = None,
    interval_s: Annotated[float, typer.Option(min=1.0, help="Seconds between passes.")] = 60.0,
    catch_up_hours: Annotated[
        int, typer.Option(min=2, help="Hours recomputed at start and every hour (late backlogs).")
    ] = 48,
    once: Annotated[bool, typer.Option(help="One catch-up pass, then exit (for cron).")] = False,
    verbose: bool = False,
) -> None:
    """Keep the derived points (AQI, WQI, completeness) current as data arrives, until SIGINT/SIGTERM."""
    from cloud.derive.service import DeriveService

    setup_logging(verbose)
    city = load_city_or_exit(config)
    query, writer = _clients(city, influxdb, database)
    service = DeriveService(query, writer, city, interval_s=interval_s, catch_up_hours=catch_up_hours)
    if once:
        with _database_errors():
            result = service.catch_up()
        console.print(f"{city.city.id}: {_summary(result)}", highlight=False)
        return
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), name="derive", daemon=True)
    thread.start()
    logging.getLogger("cloud.derive").info(
        "deriving %s every %.0f s → %s", city.city.id, interval_s, query.url
    )
    wait_for_signal()
    stop.set()
    thread.join(timeout=30)


def export_command(
    config: ConfigOption,
    site: Annotated[str, typer.Option("--site", help="The station's site id.")],
    start: FromOption,
    end: ToOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the files (created if missing).")],
    measurement: Annotated[
        str | None, typer.Option(help="air_quality or water_quality (default: from the site's kind).")
    ] = None,
    province: Annotated[
        str | None, typer.Option(help="Province code in file names (default: initials).")
    ] = None,
    facility: Annotated[str | None, typer.Option(help="Facility code (default: the city id).")] = None,
    station: Annotated[
        str | None, typer.Option(help="Station code (default: the site's tt10 station, else the site id).")
    ] = None,
    influxdb: InfluxOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write a station's readings as Thông tư 10/2021-style files, one per timestamp."""
    from cloud.derive.tt10_export import ExportError, default_codes, export_tt10

    city = load_city_or_exit(config)
    start_ns, end_ns = _range(city, start, end)
    query, _ = _clients(city, influxdb, database)
    try:
        defaults = default_codes(city, site)
        codes = (province or defaults[0], facility or defaults[1], station or defaults[2])
        with _database_errors(), _progress("exporting") as progress:
            result = export_tt10(
                query,
                city,
                site,
                start_ns,
                end_ns,
                out,
                measurement=measurement,
                codes=codes,
                progress=progress,
            )
    except ExportError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    collapsed = (
        f" ({result.collapsed} values sharing a second with a later one left out)" if result.collapsed else ""
    )
    console.print(f"{len(result.files)} files, {result.lines} lines in {out}{collapsed}", highlight=False)
