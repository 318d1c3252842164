"""The ``ioc`` command line. Thin commands; the work lives in the modules they call."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from firmware_bridge.weighing.cli import weighing_app

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="ioc-telemetry: field devices → edge → cloud → wall."
)
config_app = typer.Typer(no_args_is_help=True, help="Check deployment configs.")
edge_app = typer.Typer(no_args_is_help=True, help="The gateway agent.")
cloud_app = typer.Typer(no_args_is_help=True, help="Cloud ingest.")
services_app = typer.Typer(no_args_is_help=True, help="Local Mosquitto and InfluxDB.")
sim_app = typer.Typer(no_args_is_help=True, help="Device simulators.")
for sub, name in (
    (config_app, "config"),
    (edge_app, "edge"),
    (cloud_app, "cloud"),
    (services_app, "services"),
    (sim_app, "sim"),
    (weighing_app, "weighing"),
):
    app.add_typer(sub, name=name)

console = Console()
err_console = Console(stderr=True)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _load_city(path: Path):  # -> CityConfig, imported lazily to keep `ioc --help` fast
    from firmware_bridge import registry
    from ioc.config import ConfigError, load_city

    try:
        return load_city(path, families=registry.config_specs())
    except ConfigError as exc:
        err_console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None


def _wait_for_signal(duration: float | None = None) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait(duration)


@config_app.command("check")
def config_check(files: Annotated[list[Path], typer.Argument(help="City config YAML files.")]) -> None:
    """Validate configs and list every problem at once with file:line."""
    for path in files:
        config = _load_city(path)
        devices = sum(len(g.devices) for g in config.gateways)
        console.print(
            f"[green]✓[/] {path}: {len(config.sites)} sites, {len(config.gateways)} gateways, "
            f"{devices} devices"
        )


@edge_app.command("run")
def edge_run(
    config: Path,
    gateway: Annotated[str, typer.Option(help="Which gateway of the config this agent is.")],
    broker: Annotated[
        str | None, typer.Option(help="HOST:PORT, overriding the config's mqtt section.")
    ] = None,
    port: Annotated[list[str], typer.Option(help="DEVICE=PATH: read DEVICE from PATH instead.")] = [],  # noqa: B006
    state_dir: Annotated[Path, typer.Option(help="Device state that must survive restarts.")] = Path(
        "var/edge"
    ),
    verbose: bool = False,
) -> None:
    """Run the gateway agent until SIGINT/SIGTERM."""
    from edge.agent import AgentOptions, EdgeAgent

    _logging(verbose)
    city = _load_city(config)
    host, mqtt_port = _host_port(broker) if broker else (city.mqtt.host, city.mqtt.port)
    overrides = dict(item.split("=", 1) for item in port)
    options = AgentOptions(
        host,
        mqtt_port,
        city.mqtt.batch_max_readings,
        state_dir=state_dir,
        commit_interval_s=city.mqtt.commit_interval_s,
    )
    agent = EdgeAgent(city, gateway, options, overrides).start()
    logging.getLogger("edge").info(
        "gateway %s: %d devices, uplink %s:%d", gateway, len(agent.devices), host, mqtt_port
    )
    _wait_for_signal()
    agent.stop()


@cloud_app.command("ingest")
def cloud_ingest(
    broker: Annotated[str, typer.Option(help="MQTT broker HOST:PORT.")] = "127.0.0.1:1883",
    influxdb: Annotated[str, typer.Option(help="InfluxDB URL (v1 /write API).")] = "http://127.0.0.1:8086",
    database: str = "ioc",
    worker_id: str = "ingest-1",
    cities: Annotated[str, typer.Option(help="Ingest only this city id ('+' for all).")] = "+",
    verbose: bool = False,
) -> None:
    """Run one ingest worker until SIGINT/SIGTERM; run more for more throughput."""
    from cloud.influx_writer import InfluxV1Writer
    from cloud.ingest import IngestWorker

    _logging(verbose)
    host, port = _host_port(broker)
    worker = IngestWorker(host, port, InfluxV1Writer(influxdb, database), worker_id, cities=cities).start()
    logging.getLogger("cloud").info("%s: %s:%d → %s/%s", worker_id, host, port, influxdb, database)
    _wait_for_signal()
    worker.stop()


@services_app.command("up")
def services_up(
    data: Annotated[Path, typer.Option(help="Folder for the services' data.")] = Path("var/services"),
    database: str = "ioc",
) -> None:
    """Start Mosquitto and InfluxDB on free local ports until Ctrl-C."""
    from ioc.services import InfluxDB, Mosquitto

    with Mosquitto(data / "mosquitto") as broker, InfluxDB(data / "influxdb") as influx:
        influx.create_database(database)
        console.print(
            f"mosquitto  mqtt://{broker.host}:{broker.port}\ninfluxdb   {influx.url}  (db {database})"
        )
        _wait_for_signal()


@sim_app.command("run")
def sim_run(family: str, interval_s: float = 1.0, noise: float = 0.0) -> None:
    """Play a device's firmware on a pseudo-terminal; point a reader at the printed port."""
    from firmware_bridge import registry

    sim = registry.get(family).new_simulator(interval_s=interval_s, noise=noise)
    sim.start()
    console.print(f"{family} simulator on [bold]{sim.port}[/] every {interval_s} s (Ctrl-C stops)")
    started = time.monotonic()
    _wait_for_signal()
    sim.stop()
    console.print(f"sent {len(sim.emitted)} frames in {time.monotonic() - started:.0f} s")


@app.command()
def probe(
    port: Annotated[str, typer.Argument(help="Serial port path or pyserial URL (socket://, rfc2217://).")],
    timeout: Annotated[float, typer.Option(help="Seconds to listen at each line setting.")] = 2.0,
    all_settings: Annotated[
        bool, typer.Option("--all", help="Try every common baud rate and framing.")
    ] = False,
) -> None:
    """Say which device is on PORT: family, line settings and a sample reading."""
    from firmware_bridge.probe import probe as run_probe

    def show(s) -> None:
        err_console.print(
            f"listening at {s.baudrate} {s.bytesize}{s.parity}{int(s.stopbits)} …", highlight=False
        )

    try:
        result = run_probe(port, timeout, all_settings, progress=show)
    except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
        err_console.print(f"[red]cannot open {port}: {exc}[/]")
        raise typer.Exit(2) from None
    if result.hit:
        console.print(f"[green]Found[/] {result.hit.describe()}")
        return
    heard = (
        f"heard {result.bytes_seen} bytes no family understood (first: {result.first_bytes.hex(' ')})"
        if result.bytes_seen
        else "heard nothing"
    )
    err_console.print(
        f"[yellow]No known device answered on {port}[/]: {heard}; tried {len(result.tried)} "
        "settings. Check wiring (TX/RX, A/B), power, and try --all."
    )
    raise typer.Exit(1)


@app.command()
def decode(
    file: Annotated[Path, typer.Argument(help="Raw capture: the bytes as received from the device.")],
    protocol: Annotated[str, typer.Option(help="Device family, e.g. sds011, pms5003, xk3190, toledo.")],
) -> None:
    """Decode a capture to JSON lines (one reading per line); drops are summarised on stderr."""
    from firmware_bridge import registry
    from firmware_bridge.capture import decode_file, to_json_line

    try:
        samples, dropped = decode_file(protocol, file)
        measurement = registry.get(protocol).measurement
        count = 0
        for sample in samples:
            print(to_json_line(sample, measurement))
            count += 1
    except KeyError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    except OSError as exc:
        err_console.print(f"[red]cannot read {file}: {exc}[/]")
        raise typer.Exit(2) from None
    drops = ", ".join(f"{reason}={n}" for reason, n in sorted(dropped.items())) or "nothing"
    err_console.print(f"{count} readings; dropped: {drops}", highlight=False)


@app.command()
def demo(
    city: Annotated[Path, typer.Option(help="City config to simulate.")] = Path(
        "configs/cities/buon-ma-thuot.yaml"
    ),
    data: Annotated[Path, typer.Option(help="Folder for services' data and logs.")] = Path("var/demo"),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
) -> None:
    """Run a simulated pilot city end to end with a live count of points arriving."""
    from ioc.demo import run_demo

    ok = run_demo(_load_city(city), city, data, duration, console)
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
