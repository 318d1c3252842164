"""Best-effort notifications — Grafana annotations and a webhook — on a background thread, so a slow
or dead receiver never holds up evaluation. A full queue drops (and counts) the oldest work."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import urllib3

from cloud.alerts.state import Transition

log = logging.getLogger(__name__)
Target = Callable[[Transition], None]
MS = 1_000_000


@dataclass(frozen=True)
class GrafanaTarget:
    url: str  # e.g. http://grafana:3000
    token: str = ""  # a service account token
    timeout_s: float = 5.0


class GrafanaAnnotations:
    """One annotation per change, tagged ``ioc-alert``, the rule, severity, state and city, so a
    dashboard shows them with an annotation query on those tags. A resolution is a region from
    the moment the alert fired, so the wall shows how long it lasted."""

    def __init__(self, target: GrafanaTarget) -> None:
        from grafana_client import GrafanaApi

        self.api = GrafanaApi.from_url(target.url, credential=target.token or None, timeout=target.timeout_s)

    def __call__(self, t: Transition) -> None:
        tags = ["ioc-alert", t.rule, t.severity, t.state, *([t.city] if t.city else [])]
        start = t.since_ns if t.state == "resolved" else t.time_ns
        end = t.time_ns if t.state == "resolved" else None
        text = t.message + (f" (xác nhận: {t.by})" if t.by else "")
        self.api.annotations.add_annotation(
            time_from=start // MS, time_to=end // MS if end else None, tags=tags, text=text
        )


class Webhook:
    """POSTs each change as JSON; urllib3 retries refused connections and 429/5xx answers with backoff."""

    def __init__(self, url: str, timeout_s: float = 5.0, retries: int = 3) -> None:
        self.url = url
        retry = urllib3.Retry(
            total=retries,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
        )
        self._http = urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(connect=2.0, read=timeout_s))

    def __call__(self, t: Transition) -> None:
        body = json.dumps(t.to_dict(), ensure_ascii=False).encode()
        response = self._http.request(
            "POST", self.url, body=body, headers={"Content-Type": "application/json"}
        )
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


class Notifier:
    def __init__(self, targets: dict[str, Target], max_queue: int = 10_000) -> None:
        self.targets = targets
        self.failures: dict[str, int] = dict.fromkeys(targets, 0)
        self.dropped = 0
        self._queue: queue.Queue[Transition | None] = queue.Queue(max_queue)
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="alert-notify", daemon=True)
        if targets:
            self._thread.start()

    def submit(self, t: Transition) -> None:
        if not self.targets:
            return
        with self._idle:
            self._pending += 1
        while True:
            try:
                self._queue.put_nowait(t)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    continue
                self.dropped += 1
                self._done()

    def flush(self, timeout_s: float) -> bool:
        """Wait until every submitted change was tried; False if that took longer than timeout_s."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        if self.targets:
            self.flush(timeout_s)
            self._queue.put(None)
            self._thread.join(timeout_s)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _run(self) -> None:
        while (t := self._queue.get()) is not None:
            for name, target in self.targets.items():
                try:
                    target(t)
                except Exception as exc:  # any receiver failure: log it, count it, go on
                    self.failures[name] += 1
                    log.warning("alerts: %s failed for %s: %s", name, t.key, exc)
            self._done()
