"""`make demo`: a simulated pilot city end to end on the real broker and database.

Simulators play every device of the city on pseudo-terminals; each gateway's agent and the ingest
worker run as their own processes (`ioc edge run`, `ioc cloud ingest`), exactly as deployed.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from firmware_bridge import registry
from firmware_bridge.registry import Simulator
from ioc.config import CityConfig
from ioc.services import REPO_ROOT, InfluxDB, Mosquitto, free_port

DATABASE = "ioc"


@dataclass
class Count:
    points: int
    last_ns: int


# (device, measurement) → points stored. Health points (`gateway`) are counted apart: a device is
# only "arriving" when its own readings are.
Counts = dict[tuple[str, str], Count]


def device_counts(influx: InfluxDB) -> Counts:
    """Points stored per device and measurement. Every point carries the ``quality`` field, so
    counting it counts points of any measurement."""
    counts: Counts = {}
    for row in influx.rows('SELECT count("quality") FROM /.*/ GROUP BY "device"', DATABASE):
        counts[(row["device"], row["_measurement"])] = Count(row["count"], 0)
    for row in influx.rows('SELECT last("quality") FROM /.*/ GROUP BY "device"', DATABASE):
        if (key := (row["device"], row["_measurement"])) in counts:
            counts[key].last_ns = row["time"]
    return counts


# Points about a device that are not its readings: its health and its hourly ledger.
NOT_READINGS = frozenset({"gateway", "completeness"})


def _arrived(counts: Counts, device: str) -> bool:
    return any(d == device and m not in NOT_READINGS for d, m in counts)


def _spawn(args: list[str], log_path: Path, module: str = "ioc") -> subprocess.Popen[bytes]:
    """``python -m MODULE ARGS``; gateways run ``edge``, the agent's own lighter entry point, as
    the systemd unit does."""
    with log_path.open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", module, *args], stdout=log, stderr=subprocess.STDOUT)


def _what_runs_where(
    broker: Mosquitto,
    field_broker: Mosquitto,
    influx: InfluxDB,
    sims: dict[str, Simulator],
    procs: dict[str, subprocess.Popen[bytes]],
    logs: Path,
    status_ports: dict[str, int],
    tls: bool,
) -> Table:
    table = Table(title="What runs where", title_justify="left")
    for column in ("part", "name", "where"):
        table.add_column(column)
    scheme, how = ("mqtts", "TLS, an account per gateway, ACLs") if tls else ("mqtt", "plain, --no-tls")
    table.add_row(
        "broker", "mosquitto", f"{scheme}://{broker.host}:{broker.port}  ({how})  data {broker.data_dir}"
    )
    table.add_row(
        "field broker", "mosquitto", f"mqtt://{field_broker.host}:{field_broker.port}  (devices' own MQTT)"
    )
    table.add_row("database", "influxdb", f"{influx.url}  db '{DATABASE}'  data {influx.data_dir}")
    for device, sim in sims.items():
        table.add_row("simulator", device, sim.port)
    for name, proc in procs.items():
        page = f"  status http://127.0.0.1:{status_ports[name]}/" if name in status_ports else ""
        table.add_row("process", name, f"pid {proc.pid}  log {logs / (name + '.log')}{page}")
    return table


def _live_table(
    city: CityConfig, counts: Counts, previous: dict[tuple[str, str], int], dt: float, started: float
) -> Table:
    table = Table(
        title=f"{city.city.name}: points in InfluxDB  ({time.monotonic() - started:.0f} s, Ctrl-C stops)",
        title_justify="left",
    )
    for column in ("gateway", "device", "measurement", "points", "per s", "last age"):
        table.add_column(column, justify="right" if column in ("points", "per s", "last age") else "left")
    now = time.time_ns()
    for gateway, device in city.devices():
        keys = sorted(k for k in counts if k[0] == device.id and k[1] not in NOT_READINGS)
        if not keys:
            table.add_row(gateway.id, device.id, "-", "0", "-", "[yellow]waiting[/]")
        for key in keys:
            row = counts[key]
            rate = (row.points - previous.get(key, row.points)) / dt if dt > 0 else 0.0
            age = (now - row.last_ns) / 1e9
            table.add_row(
                gateway.id,
                device.id,
                key[1],
                str(row.points),
                f"{rate:.1f}",
                f"[{'green' if age < 30 else 'red'}]{age:.1f} s[/]",
            )
    # Every measurement, the cloud's derived ones (alerts, aqi, completeness …) included.
    per_measurement = {}
    for (_device, measurement), count in counts.items():
        per_measurement[measurement] = per_measurement.get(measurement, 0) + count.points
    for measurement, points in sorted(per_measurement.items()):
        table.add_row("[bold]all[/]", "", f"[bold]{measurement}[/]", f"[bold]{points}[/]", "", "")
    return table


def _grafana_files(city: CityConfig, influx: InfluxDB, data: Path) -> str:
    """The wall's provisioning files for this demo's InfluxDB (Grafana itself is not installed here)."""
    from dashboards.provisioning import InfluxSource, make_bundle, write_files

    source = InfluxSource(influx.url, DATABASE)
    written = write_files(make_bundle(city, "vi", source), source, data / "grafana")
    return (
        f"Grafana wall: {len(written.files)} provisioning files in {written.provisioning} "
        f"(GF_PATHS_PROVISIONING={written.provisioning} grafana server)"
    )


def _start_simulators(city: CityConfig, broker: Mosquitto) -> dict[str, Simulator]:
    """A simulator for every device; devices on one Modbus bus share one simulated bus."""
    sims: dict[str, Simulator] = {}
    buses: dict[str, Simulator] = {}
    for seed, (_gateway, device) in enumerate(city.devices()):
        family = registry.get(device.family)
        kwargs = {"interval_s": 1.0, "seed": seed, **family.demo_kwargs}
        if family.transport == "mqtt":
            # Devices that publish MQTT themselves talk to the demo's broker.
            kwargs.update(broker=(broker.host, broker.port), topic=f"field/{device.id}/status")
        if family.transport == "modbus" and device.port in buses:
            sims[device.id] = buses[device.port]
            continue
        if family.transport == "modbus":
            members = [d for _g, d in city.devices() if d.port == device.port]
            kwargs.update(
                measurement=family.measurement, units={d.options["unit"]: d.options["map"] for d in members}
            )
        sim = family.new_simulator(**kwargs)
        sim.start()
        sims[device.id] = sim
        if family.transport == "modbus" and device.port:
            buses[device.port] = sim
    return sims


class Accounts:
    """The demo's security, as a deployment has it: a CA, a TLS broker with one account per gateway
    and per cloud service, ACLs that keep each gateway to its own topics; passwords in 0600 files."""

    def __init__(self, city: CityConfig, folder: Path) -> None:
        from cloud.security.accounts import Registry
        from cloud.security.certs import init_certs
        from ioc.secrets import write_private

        self.certs = init_certs(folder / "certs")
        self.registry = Registry(folder / "accounts")
        self.args: dict[str, list[str]] = {}
        logins = {gw.id: self.registry.enrol_gateway(city.city.id, gw.id) for gw in city.gateways}
        logins.update({role: self.registry.enrol_service(role) for role in ("ingest", "alerts")})
        for name, credentials in logins.items():
            secret = folder / "secrets" / f"{name}.password"
            secret.parent.mkdir(parents=True, exist_ok=True)
            write_private(secret, credentials.password.encode())
            self.args[name] = [
                "--username",
                credentials.username,
                "--password-file",
                str(secret),
                "--tls-ca",
                str(self.certs.ca_cert),
            ]


def run_demo(
    city: CityConfig, city_path: Path, data: Path, duration: float | None, console: Console, tls: bool = True
) -> bool:
    """Run until Ctrl-C or ``duration``; True when every simulated device's points reached InfluxDB."""
    from cloud.security.broker import SecureMosquitto

    for sub in ("services", "logs", "edge", "security"):
        shutil.rmtree(data / sub, ignore_errors=True)
    (data / "alerts.sqlite").unlink(missing_ok=True)
    logs = data / "logs"
    logs.mkdir(parents=True)
    stop = threading.Event()
    previous_handler = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sims: dict[str, Simulator] = {}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    counts: Counts = {}
    accounts = Accounts(city, data / "security") if tls else None
    broker = (
        SecureMosquitto(data / "services" / "mosquitto", accounts.certs, accounts.registry)
        if accounts
        else Mosquitto(data / "services" / "mosquitto")
    )

    def login(name: str) -> list[str]:
        return accounts.args[name] if accounts else []

    with (
        broker,
        # Controllers that publish MQTT themselves talk to the gateway's own local broker.
        Mosquitto(data / "services" / "field-mosquitto") as field_broker,
        InfluxDB(data / "services" / "influxdb") as influx,
    ):
        try:
            influx.create_database(DATABASE)
            broker_arg = f"{broker.host}:{broker.port}"
            sims.update(_start_simulators(city, field_broker))
            procs["ingest-1"] = _spawn(
                [
                    "cloud",
                    "ingest",
                    "--broker",
                    broker_arg,
                    "--influxdb",
                    influx.url,
                    "--database",
                    DATABASE,
                    *login("ingest"),
                ],
                logs / "ingest-1.log",
            )
            # The cloud's derived data: AQI/WQI and the completeness ledger, and the alert rules.
            influx_args = ["--influxdb", influx.url, "--database", DATABASE]
            procs["derive"] = _spawn(
                ["cloud", "derive", "--config", str(city_path), *influx_args, "--interval-s", "30"],
                logs / "derive.log",
            )
            procs["alerts"] = _spawn(
                [
                    "cloud",
                    "alerts",
                    "--rules",
                    str(REPO_ROOT / "configs" / "alerts"),
                    *influx_args,
                    "--broker",
                    broker_arg,
                    "--state",
                    str(data / "alerts.sqlite"),
                    "--interval",
                    "10",
                    *login("alerts"),
                ],
                logs / "alerts.log",
            )
            status_ports = {gateway.id: free_port() for gateway in city.gateways}
            for gateway in city.gateways:
                ports = [arg for d in gateway.devices for arg in ("--port", f"{d.id}={sims[d.id].port}")]
                procs[gateway.id] = _spawn(
                    [
                        "run",
                        str(city_path),
                        "--gateway",
                        gateway.id,
                        "--broker",
                        broker_arg,
                        "--state-dir",
                        str(data / "edge"),
                        "--status",
                        f"127.0.0.1:{status_ports[gateway.id]}",
                        *login(gateway.id),
                        *ports,
                    ],
                    logs / f"{gateway.id}.log",
                    module="edge",
                )
            console.print(
                _what_runs_where(broker, field_broker, influx, sims, procs, logs, status_ports, tls)
            )
            console.print(_grafana_files(city, influx, data))
            started = last = time.monotonic()
            previous: dict[tuple[str, str], int] = {}
            with Live(console=console, refresh_per_second=1, transient=False) as live:
                while not stop.wait(2.0):
                    now = time.monotonic()
                    counts = device_counts(influx)
                    dead = [
                        f"{n} exited ({p.returncode}), see {logs / (n + '.log')}"
                        for n, p in procs.items()
                        if p.poll() is not None
                    ]
                    live.update(Group(_live_table(city, counts, previous, now - last, started), *dead))
                    previous, last = {k: c.points for k, c in counts.items()}, now
                    if duration is not None and now - started >= duration:
                        break
        finally:
            for proc in procs.values():
                proc.send_signal(signal.SIGTERM)
            for proc in procs.values():
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for sim in {id(s): s for s in sims.values()}.values():  # a bus simulator serves several
                sim.stop()
            signal.signal(signal.SIGINT, previous_handler)
    console.print()
    missing = [device.id for _g, device in city.devices() if not _arrived(counts, device.id)]
    if missing:
        console.print(f"[red]No points arrived from: {', '.join(missing)}[/] (logs in {logs})")
    else:
        console.print(
            f"[green]Points arrived from all {len(sims)} simulated devices.[/] Data kept in {data}."
        )
    return not missing
