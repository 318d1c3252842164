"""Start and stop the real Mosquitto and InfluxDB for the demo, the tests and the benchmarks.

Each service runs from its Debian binary with a config rendered from ``configs/services/``, on a
free loopback port, with its data in a folder the caller chooses. ``stop()``/``start()`` keep the
port and the data, so fault tests can take a service away and bring it back.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from abc import ABC, abstractmethod
from pathlib import Path
from string import Template
from types import TracebackType
from typing import ClassVar, Self

import urllib3

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_CONFIGS = REPO_ROOT / "configs" / "services"


class ServiceError(RuntimeError):
    pass


class MissingBinary(ServiceError):
    def __init__(self, binary: str, package: str) -> None:
        super().__init__(
            f"'{binary}' is not installed. Install the Debian package: sudo apt-get install {package}"
            " (or run `make setup` as root, which does it for you)"
        )


# One pool for the readiness checks and queries of every service the launcher starts.
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1, read=30))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str, package: str) -> str:
    # /usr/sbin is not on a normal user's PATH, and mosquitto lives there.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise MissingBinary(name, package)
    return found


class ManagedService(ABC):
    """One server process: rendered config, log file, readiness check, clean stop."""

    name: ClassVar[str]
    binary: ClassVar[str]
    package: ClassVar[str]
    config_template: ClassVar[str]

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.ports = self._choose_ports()

    @abstractmethod
    def _choose_ports(self) -> dict[str, int]: ...

    @abstractmethod
    def _command(self, config: Path) -> list[str]: ...

    @abstractmethod
    def ready(self) -> bool: ...

    def _template_values(self) -> dict[str, object]:
        """What the config template may name; subclasses add their own."""
        # The user we run as: Mosquitto started as root otherwise drops to user `mosquitto`, which
        # cannot write this data folder, and silently runs without persistence or a log.
        return {"data_dir": self.data_dir, "run_user": getpass.getuser(), **self.ports}

    def _render_config(self) -> Path:
        template = Template((SERVICE_CONFIGS / self.config_template).read_text())
        path = self.data_dir / self.config_template
        path.write_text(template.substitute(self._template_values()))
        return path

    def start(self, timeout: float = 30.0) -> Self:
        if self.running:
            return self
        command = self._command(self._render_config())
        log = (self.data_dir / f"{self.name}.stdout.log").open("ab")
        # A new session so a Ctrl-C in the demo's terminal reaches us, not the servers directly:
        # we stop them in order.
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self.process.returncode}; see {log.name}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"{self.name} did not answer within {timeout:.0f} s; see {log.name}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.stop()


class Mosquitto(ManagedService):
    name = "mosquitto"
    binary = "mosquitto"
    package = "mosquitto"
    config_template = "mosquitto.conf"

    def _choose_ports(self) -> dict[str, int]:
        return {"port": free_port()}

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.ports["port"]

    def _command(self, config: Path) -> list[str]:
        return [find_binary(self.binary, self.package), "-c", str(config)]

    def ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False


class InfluxDB(ManagedService):
    """The InfluxDB 1.x server (Debian ``influxdb``), spoken to through its v1 HTTP API."""

    name = "influxdb"
    binary = "influxd"
    package = "influxdb"
    config_template = "influxdb.conf"

    def _choose_ports(self) -> dict[str, int]:
        return {"http_port": free_port(), "rpc_port": free_port()}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http_port']}"

    def _command(self, config: Path) -> list[str]:
        return [find_binary(self.binary, self.package), "-config", str(config)]

    def ready(self) -> bool:
        try:
            return HTTP.request("GET", f"{self.url}/ping", timeout=0.5).status == 204
        except urllib3.exceptions.HTTPError:
            return False

    def query(self, q: str, database: str | None = None) -> dict:
        """Run InfluxQL through ``/query`` and return the decoded JSON (raises on an error)."""
        params = {"q": q, "epoch": "ns"}
        if database:
            params["db"] = database
        response = HTTP.request(
            "POST",
            f"{self.url}/query",
            body=urllib.parse.urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        doc = response.json()
        errors = [r["error"] for r in doc.get("results", []) if "error" in r]
        if response.status >= 300 or "error" in doc or errors:
            raise ServiceError(f"InfluxQL {q!r} failed: {doc.get('error') or errors}")
        return doc

    def create_database(self, database: str) -> None:
        self.query(f'CREATE DATABASE "{database}"')

    def rows(self, q: str, database: str) -> list[dict]:
        """Rows of every series a query returns, each a dict of column → value plus its tags."""
        out: list[dict] = []
        for result in self.query(q, database)["results"]:
            for series in result.get("series", []):
                for values in series["values"]:
                    row = dict(zip(series["columns"], values, strict=True))
                    row.update(series.get("tags") or {})
                    row["_measurement"] = series["name"]
                    out.append(row)
        return out


class VictoriaMetrics(ManagedService):
    """A server that accepts InfluxDB's v2 write API (Debian ``victoria-metrics``): the real peer
    for the v2 writer's tests, since Debian's ``influxdb`` is a 1.x server."""

    name = "victoria-metrics"
    binary = "victoria-metrics"
    package = "victoria-metrics"
    config_template = ""  # configured by flags

    def _choose_ports(self) -> dict[str, int]:
        return {"http_port": free_port()}

    def _render_config(self) -> Path:
        return self.data_dir

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http_port']}"

    def _command(self, config: Path) -> list[str]:
        return [
            find_binary(self.binary, self.package),
            f"-httpListenAddr=127.0.0.1:{self.ports['http_port']}",
            f"-storageDataPath={self.data_dir / 'data'}",
            "-search.latencyOffset=0s",  # read back what was just written
            "-retentionPeriod=100y",  # replays of old edge data must not fall outside retention
            "-loggerLevel=ERROR",
        ]

    def ready(self) -> bool:
        try:
            return HTTP.request("GET", f"{self.url}/health", timeout=0.5).status == 200
        except urllib3.exceptions.HTTPError:
            return False
