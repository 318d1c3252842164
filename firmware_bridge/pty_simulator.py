"""Shared base for simulators that play a device's firmware on a pseudo-terminal.

A client opens ``sim.port`` (the pty slave) with pyserial exactly as it would open
``/dev/ttyUSB0``; the simulator writes frames to the master side. Open the port *before*
``start()`` when every frame matters: pyserial flushes the input queue when it opens a port, so
frames written earlier would be discarded and ``emitted`` would no longer match what was read.

When nobody reads, the kernel's pty buffer fills up. The master is non-blocking so the simulator
never hangs: a frame is written whole or not at all, and frames that cannot be written because the
previous bytes are still waiting are counted in ``overflowed`` and left out of ``emitted``. So
``emitted`` is exactly the frames a reader gets, in order, which is what zero-loss checks compare.

Faults every pty simulator supports through ``set_fault`` (families add their own to ``faults``):
"dropout" — the device goes quiet (a cut cable, a crashed firmware); "garbage" — random bytes go
out instead of frames (wrong baud rate on a converter, a failing line driver). The device's own
state keeps advancing under both, as the real world does while nobody hears it; neither shows up
in ``emitted``.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from ioc.reading import FieldValue

# Upper bound on how long stop() waits for the thread and how late a host command is answered.
_POLL_S = 0.05
_MAX_GARBAGE = 16
# Replies to a host that writes commands but never reads must not grow without bound either.
_MAX_PENDING = 4096

GENERIC_FAULTS: tuple[str, ...] = ("dropout", "garbage")


class PtySimulator(ABC):
    """Base class: subclasses implement ``next_frame`` and optionally ``on_host_bytes``/``noise_bytes``."""

    # The fault names ``set_fault`` accepts; a subclass that handles more extends this tuple.
    faults: tuple[str, ...] = GENERIC_FAULTS

    def __init__(self, *, interval_s: float = 1.0, seed: int | None = None, noise: float = 0.0) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise is a probability per frame (0..1), not {noise}")
        self.interval_s = interval_s
        self.noise = noise
        self.rng = random.Random(seed)
        # Its own stream, so switching noise on does not change the values a seed produces.
        self.noise_rng = random.Random(None if seed is None else f"noise:{seed}")
        self.emitted: list[tuple[int, dict[str, FieldValue]]] = []
        self.overflowed = 0
        self.noise_inserted = 0
        # A subclass sets this while its device is asleep or in query mode: no periodic frames.
        self.paused = False
        self.fault: str | None = None
        self.garbage_sent = 0
        self._pending = bytearray()
        self._master, self._slave = os.openpty()
        # Raw: no echo, no CR/LF translation, no XON/XOFF eating 0x11/0x13 — binary frames pass untouched.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        # We keep the slave open ourselves so that the master never sees EIO between clients.
        self.port = os.ttyname(self._slave)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    @abstractmethod
    def next_frame(self) -> tuple[bytes, dict[str, FieldValue]]:
        """The next frame the device sends and the fields a decoder must get back from it."""

    def on_host_bytes(self, data: bytes) -> bytes | None:
        """Bytes the host wrote (any chunking); return a reply to send, if any. Runs on the sim thread."""
        return None

    def noise_bytes(self, frame: bytes) -> bytes:
        """Garbage sent before ``frame`` when noise strikes; families override this with realistic corruption.

        Never contains the frame's first byte, so a decoder that syncs on it cannot mistake the
        garbage for a frame and ``emitted`` stays exactly what must be decoded.
        """
        choices = [b for b in range(256) if b != frame[0]]
        return bytes(self.noise_rng.choice(choices) for _ in range(self.noise_rng.randint(1, _MAX_GARBAGE)))

    def garbage_bytes(self, frame: bytes) -> bytes:
        """What goes out instead of ``frame`` under the "garbage" fault: random bytes of about its length.

        Like ``noise_bytes`` it never contains the frame's first byte, so garbage cannot forge a frame.
        """
        choices = [b for b in range(256) if b != frame[0]]
        return bytes(self.noise_rng.choice(choices) for _ in range(max(len(frame), 1)))

    def set_fault(self, name: str | None) -> None:
        """Start misbehaving as ``name`` (one of ``faults``); None returns to normal operation."""
        if name is not None and name not in self.faults:
            raise ValueError(f"unknown fault {name!r}; this simulator supports: {', '.join(self.faults)}")
        self.fault = name

    def emit_frame(self) -> bool:
        """Send one frame now (as each tick does); False when no frame went out: nobody reads, or a
        "dropout"/"garbage" fault is on.

        Call it only from the simulator thread (e.g. inside ``on_host_bytes``) or before ``start()``.
        """
        frame, fields = self.next_frame()
        if self.fault == "dropout":
            return False
        if self.fault == "garbage":
            if not self._pending:
                self._pending += self.garbage_bytes(frame)
                self.garbage_sent += 1
                self._flush()
            return False
        if self._pending:
            self.overflowed += 1
            return False
        if self.noise and self.noise_rng.random() < self.noise:
            frame = self.noise_bytes(frame) + frame
            self.noise_inserted += 1
        self._pending += frame
        self.emitted.append((time.time_ns(), fields))
        self._flush()
        return True

    def start(self) -> None:
        if self._closed:
            raise RuntimeError("simulator was stopped; create a new one")
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"{type(self).__name__}:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the pty; a client still holding the port then sees a hang-up."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if not self._closed:
            self._closed = True
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        next_due = time.monotonic()
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= next_due:
                if not self.paused:
                    self.emit_frame()
                next_due += self.interval_s
                if next_due < now:
                    # After a stall (loaded CI, suspended laptop) resume the cadence instead of bursting.
                    next_due = now + self.interval_s
            self._flush()
            wait = min(max(next_due - time.monotonic(), 0.0), _POLL_S)
            writers = [self._master] if self._pending else []
            try:
                readable, _, _ = select.select([self._master], writers, [], wait)
            except (OSError, ValueError):
                return
            if readable:
                self._read_host()

    def _read_host(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:
            # EIO without any slave open; cannot happen while we hold the slave, but never spin on it.
            self._stopping.wait(_POLL_S)
            return
        if not data:
            return
        reply = self.on_host_bytes(data)
        if reply and len(self._pending) < _MAX_PENDING:
            self._pending += reply
            self._flush()

    def _flush(self) -> None:
        while self._pending:
            try:
                written = os.write(self._master, self._pending)
            except OSError:  # EAGAIN: the buffer is full; the rest waits for the next flush
                return
            if written <= 0:
                return
            del self._pending[:written]
