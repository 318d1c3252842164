"""`make bench`: run every benchmark on real services under var/bench/ and report the figures."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from bench import camera, decode, edge_agent, ingest_path
from bench.results import report

ROOT = Path("var/bench/services")


def main() -> None:
    console = Console()
    shutil.rmtree(ROOT, ignore_errors=True)
    with console.status("ingest path vs raw InfluxDB writes …"):
        figures = ingest_path.run(ROOT / "ingest")
    with console.status("decode throughput per serial family …"):
        figures += decode.run()
    with console.status("edge agent: 100 Modbus TCP devices, steady state and a 1-hour backlog (≈4 min) …"):
        figures += edge_agent.run(ROOT / "edge")
    with console.status("cameras: H.264 640×360 through health, motion and counting …"):
        figures += camera.run(ROOT / "camera")
    report(figures, console)


if __name__ == "__main__":
    main()
