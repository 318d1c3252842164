"""Serves the status page without paying for it while nobody looks: the port is bound at once,
FastAPI and uvicorn load when the first visitor connects (about 10 MB a gateway keeps otherwise)."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from edge.status import AgentState


class StatusServer:
    def __init__(self, state: Callable[[], AgentState], host: str, port: int) -> None:
        self.state = state
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.server: uvicorn.Server | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-page", daemon=True)

    @property
    def started(self) -> bool:
        """Accepting connections (the first one starts the web server)."""
        return self._thread.is_alive()

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.5)
            if readable:
                break
        if self._stop.is_set():
            return
        import uvicorn

        from edge.status_page import create_app

        config = uvicorn.Config(create_app(self.state), log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.server.run(sockets=[self.sock])  # accepts the visitor who is already waiting

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.should_exit = True
        self._thread.join(timeout=5)
        self.sock.close()
