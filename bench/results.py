"""Print the figures as a table and append them to ``var/bench/results.json``."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path("var/bench/results.json")


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    against: str  # the baseline this figure is measured against, or how it was measured
    ratio: float | None = None  # value ÷ baseline measured in the same run, where one applies


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def report(figures: list[Figure], console: Console) -> None:
    table = Table(title="ioc-telemetry benchmarks", title_justify="left")
    for column in ("figure", "value", "unit", "ratio", "measured against"):
        table.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for f in figures:
        table.add_row(
            f.name, f"{f.value:,.1f}", f.unit, "" if f.ratio is None else f"{f.ratio:.2f}", f.against
        )
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    runs.append(
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": _commit(),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "figures": [asdict(f) for f in figures],
        }
    )
    RESULTS.write_text(json.dumps(runs, indent=2, ensure_ascii=False))
    console.print(f"written to {RESULTS}")
