"""Remote config: the cloud keeps a gateway's desired config retained on ``…/config``; the agent
validates it, applies it without a restart, answers on ``…/config/ack``, keeps the last versions
on disk, and rolls back by itself when the new config leaves devices unread.

Message on ``config`` (JSON): ``{"version": "2026-11-26.3", "yaml": "<the city config>"}``.
Ack on ``config/ack``: ``{"version", "status": "applied" | "unchanged" | "rejected" | "rolled_back",
"problems": [...], "devices": [...]}``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.agent import EdgeAgent, find_gateway
from firmware_bridge import registry
from ioc import config_message
from ioc.config import CityConfig, ConfigError, parse_city

log = logging.getLogger(__name__)
KEEP_VERSIONS = 10


class ConfigStore:
    """The last versions applied, as files, and which one is current (survives restarts)."""

    def __init__(self, root: Path, keep: int = KEEP_VERSIONS) -> None:
        self.root = root
        self.keep = keep
        (root / "versions").mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        return sorted((self.root / "versions").glob("*.yaml"))

    def versions(self) -> list[str]:
        return [f.stem.split("-", 1)[1] for f in self._files()]

    def save(self, version: str, text: str) -> None:
        files = self._files()
        number = int(files[-1].stem.split("-", 1)[0]) + 1 if files else 1
        (self.root / "versions" / f"{number:06d}-{version}.yaml").write_text(text, encoding="utf-8")
        for old in self._files()[: -self.keep]:
            old.unlink()

    def text(self, version: str) -> str | None:
        for f in reversed(self._files()):
            if f.stem.split("-", 1)[1] == version:
                return f.read_text(encoding="utf-8")
        return None

    def _marker(self, name: str) -> Path:
        return self.root / name

    @property
    def current(self) -> str | None:
        path = self._marker("current")
        return path.read_text().strip() if path.exists() else None

    @current.setter
    def current(self, version: str) -> None:
        tmp = self._marker("current.tmp")
        tmp.write_text(version)
        tmp.replace(self._marker("current"))  # atomic: a power cut leaves the old or the new

    def mark_bad(self, version: str) -> None:
        with self._marker("rolled_back").open("a") as f:
            f.write(version + "\n")

    def is_bad(self, version: str) -> bool:
        path = self._marker("rolled_back")
        return path.exists() and version in path.read_text().split()


class RemoteConfig:
    def __init__(
        self,
        agent: EdgeAgent,
        file_config: CityConfig,
        rollback_after_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agent = agent
        self.store = ConfigStore(agent.state_dir / "config")
        self.rollback_after_s = rollback_after_s
        self.clock = clock
        self.config = file_config
        self.version = "file"
        self._inbox: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="remote-config", daemon=True)
        self._watch: tuple[str, CityConfig, str, dict[str, int], float] | None = None

    def restore(self) -> CityConfig:
        """The config to start with: the last remote version applied, if any, else the file's."""
        version = self.store.current
        text = self.store.text(version) if version else None
        if version and text:
            try:
                self.config = parse_city(text, f"remote config {version}", registry.config_specs())
                self.version = version
                log.info("starting with remote config %s", version)
            except ConfigError as exc:
                log.error("stored remote config %s no longer loads, using the file: %s", version, exc)
        return self.config

    def start(self) -> RemoteConfig:
        self.agent.uplink.on_config = self._inbox.put
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Empty):
                self.handle(self._inbox.get(timeout=1.0))
            self.check_rollback()

    def _ack(
        self, version: str, status: str, problems: list[str] | None = None, devices: list[str] | None = None
    ) -> dict[str, object]:
        doc: dict[str, object] = {
            "version": version,
            "status": status,
            "problems": problems or [],
            "devices": devices or [],
        }
        self.agent.uplink.publish_config_ack(doc)
        log.info("config %s: %s %s", version, status, "; ".join(problems or []))
        return doc

    def handle(self, payload: bytes) -> dict[str, object] | None:
        try:
            version, text = config_message.decode(payload)
        except config_message.ConfigMessageError as exc:
            return self._ack("?", "rejected", [str(exc)])
        if version == self.version:
            return None  # the retained message again, after a reconnect
        if self.store.is_bad(version):
            return self._ack(version, "rejected", ["this version was rolled back before; publish a new one"])
        try:
            config = parse_city(text, f"remote config {version}", registry.config_specs())
            find_gateway(config, self.agent.gateway.id)
        except ConfigError as exc:
            return self._ack(version, "rejected", [str(p) for p in exc.problems])
        except ValueError as exc:
            return self._ack(version, "rejected", [str(exc)])
        previous = (self.config, self.version)
        changed = self.agent.apply(config)
        self.store.save(version, text)
        self.store.current = version
        self.config, self.version = config, version
        produced = {d.ctx.device_id: d.status.produced for d in self.agent.devices}
        self._watch = (version, previous[0], previous[1], produced, self.clock())
        return self._ack(version, "applied", devices=changed)

    def check_rollback(self) -> dict[str, object] | None:
        """Roll back when a device has read nothing for rollback_after_s since the config came."""
        if self._watch is None:
            return None
        version, old_config, old_version, produced, applied_at = self._watch
        unread = [
            d.ctx.device_id
            for d in self.agent.devices
            if d.status.produced <= produced.get(d.ctx.device_id, 0)
        ]
        if not unread:
            self._watch = None  # every device reads: the config is good
            return None
        if self.clock() - applied_at < self.rollback_after_s:
            return None
        self._watch = None
        self.agent.apply(old_config)
        self.store.mark_bad(version)
        self.config, self.version = old_config, old_version
        self.store.current = old_version
        return self._ack(
            version,
            "rolled_back",
            [f"devices unread for {self.rollback_after_s:.0f} s: {', '.join(unread)}"],
            devices=unread,
        )
