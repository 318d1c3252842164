"""The ``ioc`` command line. Thin commands; the work lives in the modules they call."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cloud.cli import cloud_app
from cloud.indices.cli import aqi_command
from cloud.security.cli import certs_init_command
from dashboards.cli import build_command, push_command
from edge.cli import edge_app
from firmware_bridge.weighing.cli import weighing_app
from ioc.cli_common import console, err_console, load_city_or_exit, wait_for_signal

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="ioc-telemetry: field devices → edge → cloud → wall."
)
config_app = typer.Typer(no_args_is_help=True, help="Check deployment configs.")
services_app = typer.Typer(no_args_is_help=True, help="Local Mosquitto and InfluxDB.")
sim_app = typer.Typer(no_args_is_help=True, help="Device simulators.")
certs_app = typer.Typer(no_args_is_help=True, help="The deployment's CA and server certificates.")
certs_app.command("init")(certs_init_command)
camera_app = typer.Typer(no_args_is_help=True, help="Cameras: the health and counting pipeline on a clip.")
dashboards_app = typer.Typer(
    no_args_is_help=True, help="The Grafana display wall: build files, push to Grafana."
)
dashboards_app.command("build")(build_command)
dashboards_app.command("push")(push_command)
for sub, name in (
    (config_app, "config"),
    (edge_app, "edge"),
    (cloud_app, "cloud"),
    (services_app, "services"),
    (sim_app, "sim"),
    (weighing_app, "weighing"),
    (certs_app, "certs"),
    (dashboards_app, "dashboards"),
    (camera_app, "camera"),
):
    app.add_typer(sub, name=name)


@config_app.command("check")
def config_check(
    files: Annotated[
        list[Path], typer.Argument(help="City configs, or alert rule files/folders (…/alerts/…).")
    ],
) -> None:
    """Validate configs and list every problem at once with file:line."""
    from cloud.alerts import check_rules
    from ioc.config import format_problems

    for path in files:
        if path.is_dir() or "alerts" in path.parts:
            problems = check_rules(path)
            if problems:
                err_console.print(f"[bold red]{format_problems(problems)}[/]", highlight=False)
                raise typer.Exit(2)
            console.print(f"[green]✓[/] {path}: alert rules load")
            continue
        config = load_city_or_exit(path)
        devices = sum(len(g.devices) for g in config.gateways)
        console.print(
            f"[green]✓[/] {path}: {len(config.sites)} sites, {len(config.gateways)} gateways, "
            f"{devices} devices"
        )


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
        wait_for_signal()


@sim_app.command("run")
def sim_run(family: str, interval_s: float = 1.0, noise: float = 0.0) -> None:
    """Play a device's firmware on a pseudo-terminal; point a reader at the printed port."""
    from firmware_bridge import registry

    sim = registry.get(family).new_simulator(interval_s=interval_s, noise=noise)
    sim.start()
    console.print(f"{family} simulator on [bold]{sim.port}[/] every {interval_s} s (Ctrl-C stops)")
    started = time.monotonic()
    wait_for_signal()
    sim.stop()
    console.print(f"sent {len(sim.emitted)} frames in {time.monotonic() - started:.0f} s")


@camera_app.command("analyze")
def camera_analyze(
    video: Annotated[Path, typer.Argument(help="A recorded clip (MP4, MKV, MJPEG …).")],
    config: Annotated[Path, typer.Option("--config", help="Camera options YAML: lanes, fps, thresholds.")],
) -> None:
    """Run the camera pipeline on a clip: JSON lines of health changes and counts per lane."""
    from edge.camera.cli import analyze_command  # OpenCV loads for this command only

    analyze_command(video, config)


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


app.command("aqi", help="VN_AQI (QĐ 1459/QĐ-TCMT) hourly and daily from a CSV of hourly means.")(aqi_command)


@app.command()
def demo(
    city: Annotated[Path, typer.Option(help="City config to simulate.")] = Path(
        "configs/cities/buon-ma-thuot.yaml"
    ),
    data: Annotated[Path, typer.Option(help="Folder for services' data and logs.")] = Path("var/demo"),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    tls: Annotated[
        bool, typer.Option(help="Broker with TLS and per-gateway accounts (--no-tls: plain).")
    ] = True,
) -> None:
    """Run a simulated pilot city end to end with a live count of points arriving."""
    from ioc.demo import run_demo

    ok = run_demo(load_city_or_exit(city), city, data, duration, console, tls)
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
