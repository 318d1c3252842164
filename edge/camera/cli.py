"""`ioc camera analyze VIDEO --config FILE`: the live pipeline on a recorded clip, as JSON lines, so
engineers tune lines and thresholds before deploying."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import cv2
import typer

from edge.camera.analyzer import FrameAnalyzer
from edge.camera.counting import FlowInterval
from edge.camera.options import CameraOptions, OptionsFileError, load_options


def _flow_lines(flows: list[FlowInterval]) -> Iterator[dict[str, Any]]:
    for flow in flows:
        for (lane, direction), n in flow.counts.items():
            yield {
                "type": "traffic_flow",
                "time_s": round(flow.start_s, 2),
                "interval_s": flow.interval_s,
                "lane": lane,
                "direction": direction,
                "intensity": n,
                "occupancy": round(flow.occupancy[(lane, direction)], 2),
            }


def analyze_clip(video: Path, options: CameraOptions) -> Iterator[dict[str, Any]]:
    """Every frame at the configured rate, timed by the clip's own clock (not the wall's)."""
    cap = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise OSError(f"{video}: cannot open as a video")
    native = cap.get(cv2.CAP_PROP_FPS) or options.fps
    step = max(1, round(native / options.fps))
    analyzer = FrameAnalyzer(options)
    index = 0
    try:
        while cap.grab():
            index += 1
            if (index - 1) % step:
                continue  # skipped frames are grabbed only: no colour conversion, no analysis
            ok, frame = cap.retrieve()
            if not ok:
                continue
            t = (index - 1) / native
            result = analyzer.process(frame, t)
            if result.state_change:
                yield {"type": "health", "time_s": round(t, 2), "state": result.state_change}
            yield from _flow_lines(result.flows)
        yield from _flow_lines(analyzer.flow.flush())
    finally:
        cap.release()


def analyze_command(
    video: Annotated[Path, typer.Argument(help="A recorded clip (MP4, MKV, MJPEG …).")],
    config: Annotated[Path, typer.Option("--config", help="Camera options YAML: lanes, fps, thresholds.")],
) -> None:
    """Print health state changes and counts per lane, direction and interval as JSON lines."""
    try:
        options = load_options(config)
        for line in analyze_clip(video, options):
            print(json.dumps(line, ensure_ascii=False))
    except OptionsFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
