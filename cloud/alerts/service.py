"""The alert service: evaluate every rule each interval, then hand the changes to the sinks."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cloud.alerts.engine import evaluate
from cloud.alerts.loader import load_rules, rule_files
from cloud.alerts.model import Rule
from cloud.alerts.notify import GrafanaAnnotations, GrafanaTarget, Notifier, Target, Webhook
from cloud.alerts.sinks import InfluxSink, LineWriter, MqttSink, SinkError, rule_state
from cloud.alerts.state import Transition
from cloud.alerts.store import AlertStore
from cloud.influx_query import InfluxQuery
from cloud.influx_writer import WriteError
from ioc.config.errors import ConfigError

log = logging.getLogger(__name__)
NS = 1_000_000_000
MIN_RETENTION_S = 7 * 86400


class AlertService:
    """Raises ConfigError at start when the rules do not load; later edits of the rule files are
    picked up at the next evaluation, and a broken edit keeps the previous rules (logged)."""

    def __init__(
        self,
        rules_dir: str | os.PathLike[str],
        query: InfluxQuery,
        writer: LineWriter,
        mqtt: tuple[str, int],
        state_path: str | os.PathLike[str],
        grafana: GrafanaTarget | None = None,
        webhook: str | None = None,
        interval_s: float = 30.0,
        clock: Callable[[], int] = time.time_ns,
        mqtt_credentials: tuple[str, str] | None = None,
        mqtt_tls_ca: str | None = None,
    ) -> None:
        self.rules_dir, self.query, self.interval_s, self.clock = rules_dir, query, interval_s, clock
        self.rules: list[Rule] = load_rules(rules_dir)
        self._signature = _signature(rules_dir)
        Path(state_path).parent.mkdir(parents=True, exist_ok=True)
        self.store = AlertStore(state_path)
        self.influx = InfluxSink(writer)
        self.mqtt = MqttSink(*mqtt, credentials=mqtt_credentials, tls_ca_file=mqtt_tls_ca)
        targets: dict[str, Target] = {}
        if grafana is not None:
            targets["grafana"] = GrafanaAnnotations(grafana)
        if webhook:
            targets["webhook"] = Webhook(webhook)
        self.notifier = Notifier(targets)
        self._dispatching = threading.Lock()  # the loop and an acknowledge() may dispatch at once

    def run_once(self, now_ns: int | None = None) -> list[Transition]:
        """One evaluation at now_ns (default: now), then a dispatch of every waiting change."""
        self._reload()
        now = self.clock() if now_ns is None else now_ns
        transitions = evaluate(self.rules, self.query, now, self.store)
        self.dispatch()
        windows = [rule.window_s for rule in self.rules]
        # Event rules need their resolved rows for as long as a point can be in a window.
        self.store.prune(now - max(MIN_RETENTION_S, 2 * max(windows, default=0)) * NS)
        return transitions

    def dispatch(self) -> int:
        """Send the outbox to InfluxDB and MQTT, then queue the notifications; the number sent.
        Whatever InfluxDB or the broker did not take stays in the outbox for the next round."""
        with self._dispatching:
            return self._dispatch()

    def _dispatch(self) -> int:
        pending = self.store.undispatched()
        if not pending:
            return 0
        changes = [t for _, t in pending]
        latest: dict[tuple[str, str], Transition] = {}
        for t in changes:
            if t.city:
                latest[(t.city, t.rule)] = t
        try:
            self.influx.send(changes)
            for (city, rule), change in latest.items():
                self.mqtt.publish(city, rule, rule_state(city, rule, self.store.active(rule, city), change))
        except (SinkError, WriteError) as exc:
            log.warning("alerts: %d changes wait for the next round: %s", len(changes), exc)
            return 0
        for t in changes:
            self.notifier.submit(t)
        self.store.mark_dispatched(i for i, _ in pending)
        return len(changes)

    def acknowledge(self, key: str, who: str) -> Transition | None:
        """Acknowledge and publish at once (another process may instead call AlertStore.acknowledge
        on the same file: the service publishes that change at its next round)."""
        transition = self.store.acknowledge(key, who, self.clock())
        if transition is not None:
            self.dispatch()
        return transition

    def run(self, stop_event: threading.Event) -> None:
        self.mqtt.connected.wait(min(10.0, self.interval_s))
        while not stop_event.is_set():
            try:
                self.run_once()
            except Exception:  # one bad round (disk full, a bug) must not stop the alerting
                log.exception("alerts: evaluation failed; trying again in %.0f s", self.interval_s)
            stop_event.wait(self.interval_s)

    def close(self) -> None:
        self.notifier.close()
        self.mqtt.close()
        self.store.close()

    def _reload(self) -> None:
        signature = _signature(self.rules_dir)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            self.rules = load_rules(self.rules_dir)
        except ConfigError as exc:
            log.error("alerts: rule files changed but do not load; keeping the previous rules\n%s", exc)
            return
        log.info("alerts: reloaded %d rules from %s", len(self.rules), self.rules_dir)


def _signature(path: str | os.PathLike[str]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for file in rule_files(path):
        try:
            stat = file.stat()
        except OSError:
            continue
        out.append((file.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)
