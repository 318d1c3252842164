"""Shared clock of the two signal-controller simulators: a thread that advances the simulated
controller every ``interval_s`` real seconds by ``interval_s * time_scale`` simulated seconds and hands
each new snapshot to the simulator, which serves (SNMP) or publishes (MQTT) it."""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from firmware_bridge.ntcip.signal_plan import SignalController, Snapshot
from ioc.reading import FieldValue

_JOIN_S = 2.0


class SignalSimulator(ABC):
    FAULTS: tuple[str, ...] = ()
    port: str  # set by the subclass before start()

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        time_scale: float = 1.0,
        start_s: float | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        if time_scale <= 0:
            raise ValueError(
                f"time_scale (simulated seconds per real second) must be positive, not {time_scale}"
            )
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise is a probability (0..1), not {noise}")
        self.interval_s = interval_s
        self.time_scale = time_scale
        self.noise = noise
        self.rng = random.Random(seed)
        # Its own stream, so switching noise on does not change the values a seed produces.
        self.noise_rng = random.Random(None if seed is None else f"noise:{seed}")
        self.noise_inserted = 0
        self.controller = SignalController(self.rng, start_s)
        self.emitted: list[tuple[int, dict[str, FieldValue]]] = []
        # (time_ns, snapshot) beside each emitted entry: the per-phase truth behind it.
        self.history: list[tuple[int, Snapshot]] = []
        self.fault: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def set_fault(self, name: str | None) -> None:
        """Misbehave from the next tick on; None clears the fault."""
        if name is not None and name not in self.FAULTS:
            raise ValueError(f"unknown fault {name!r}; this simulator supports {', '.join(self.FAULTS)}")
        self.fault = name
        self.controller.fault = name

    def record(self, time_ns: int, snapshot: Snapshot) -> None:
        self.emitted.append((time_ns, snapshot.expected()))
        self.history.append((time_ns, snapshot))

    @abstractmethod
    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` what clients get; runs on the clock thread."""

    @abstractmethod
    def open(self) -> None:
        """Acquire the simulator's endpoint before the clock starts (runs in ``start``)."""

    @abstractmethod
    def close(self) -> None:
        """Release what ``open`` acquired (runs in ``stop``, after the clock thread ended)."""

    def start(self) -> None:
        if self._stopped:
            raise RuntimeError("simulator was stopped; create a new one")
        if self._thread is not None:
            return
        self.open()
        self._thread = threading.Thread(
            target=self._run, name=f"{type(self).__name__}:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_S)
        if not self._stopped:
            self._stopped = True
            self.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        self.publish(self.controller.snapshot())
        next_due = time.monotonic() + self.interval_s
        while not self._stopping.wait(max(next_due - time.monotonic(), 0.0)):
            self.controller.advance(self.interval_s * self.time_scale)
            self.publish(self.controller.snapshot())
            next_due += self.interval_s
            if next_due < time.monotonic():
                next_due = time.monotonic() + self.interval_s  # after a stall, resume the cadence
