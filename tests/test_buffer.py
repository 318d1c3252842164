"""The edge's durable buffer on its own: what is committed survives, leaves only when acked, and
the disk quota gives way in the documented order with every merge and drop counted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.buffer import DurableBuffer
from edge.quota import Quota, downsample, priority_of
from ioc.payload import decode_reading
from ioc.reading import Reading

TAGS = {"city": "bmt", "site": "s1", "gateway": "gw01", "device": "pm01"}
T0 = 1_767_225_600_000_000_000


def pm(i: int, device: str = "pm01") -> Reading:
    return Reading(
        "air_quality",
        dict(TAGS, device=device),
        {"pm25": float(i % 50), "pm10": float(i % 80)},
        T0 + i * 1_000_000_000,
    )


def weighing(i: int) -> Reading:
    return Reading(
        "weighing",
        dict(TAGS, device="scale01"),
        {"gross_kg": 30000.0 + i, "overload": True},
        T0 + i * 1_000_000_000 + 1,
    )


def drain(buffer: DurableBuffer, lane: str = "live") -> list[Reading]:
    out = []
    while batch := buffer.take(lane, 100):  # type: ignore[arg-type]
        out += [decode_reading(item) for item in batch.items]
        buffer.ack(batch)
    return out


def test_readings_leave_only_when_acked_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "buffer.sqlite"
    buffer = DurableBuffer(path)
    for i in range(250):
        buffer.put(pm(i))
    assert buffer.commit() == 250
    first = buffer.take("live", 100)
    assert first is not None and len(first.items) == 100
    buffer.ack(first)
    unacked = buffer.take("live", 100)
    assert unacked is not None
    buffer.close()  # the second batch was sent but never confirmed

    reopened = DurableBuffer(path)
    assert reopened.depth() == 150
    assert reopened.take("live", 10) is None  # nothing new since the restart ...
    again = drain(reopened, "backlog")  # ... everything stored is backlog, oldest first
    assert again == [pm(i) for i in range(100, 250)]
    assert reopened.depth() == 0
    reopened.close()


def test_sequence_numbers_never_repeat_across_restarts(tmp_path: Path) -> None:
    seqs = []
    for _ in range(3):
        buffer = DurableBuffer(tmp_path / "b.sqlite")
        buffer.put(pm(len(seqs)))
        buffer.commit()
        batch = buffer.take("backlog", 10) or buffer.take("live", 10)
        assert batch is not None
        seqs.append(batch.seq)
        buffer.close()
    assert seqs == sorted(set(seqs))


def test_live_lane_is_separate_from_the_backlog(tmp_path: Path) -> None:
    buffer = DurableBuffer(tmp_path / "b.sqlite")
    for i in range(30):
        buffer.put(pm(i))
    buffer.commit()
    buffer.restart_lanes()  # the uplink reconnected: those 30 are now backlog
    for i in range(30, 35):
        buffer.put(pm(i))
    buffer.commit()
    assert drain(buffer, "live") == [pm(i) for i in range(30, 35)]
    assert drain(buffer, "backlog") == [pm(i) for i in range(30)]
    buffer.close()


def test_committed_readings_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    script = textwrap.dedent(f"""
        import sys, time
        from edge.buffer import DurableBuffer
        from tests.test_buffer import pm
        buffer = DurableBuffer({str(path)!r}, commit_interval_s=0.05).start()
        i = 0
        while True:
            buffer.put(pm(i)); i += 1
            if i % 100 == 0:
                print(buffer.committed, flush=True)
            time.sleep(0.0005)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1]
    )
    assert proc.stdout is not None
    committed = 0
    while committed < 2000:
        committed = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    survivor = DurableBuffer(path)
    stored = drain(survivor, "backlog")
    # Everything reported committed before the kill is there, in order, with nothing invented.
    assert len(stored) >= committed
    assert stored == [pm(i) for i in range(len(stored))]
    survivor.close()


def test_priority_keeps_events_weighings_and_faults() -> None:
    assert priority_of(pm(1)) == 1
    assert priority_of(weighing(1)) == 0
    fault = Reading(
        "traffic_signal", dict(TAGS, signal_group="controller"), {"conflict": True, "fault": 1}, T0
    )
    assert priority_of(fault) == 0
    assert priority_of(Reading("water_quality", TAGS, {"pH": 7.0}, T0, "device_error")) == 0


def test_downsample_keeps_min_max_mean_count_per_minute() -> None:
    readings = [pm(i) for i in range(120)]  # two minutes at 1 Hz
    merged = downsample(readings)
    means = [r for r in merged if r.measurement == "air_quality"]
    stats = {(r.tags["field"], r.time_ns): r.fields for r in merged if r.measurement == "downsampled"}
    assert [r.time_ns for r in means] == [T0, T0 + 60_000_000_000]
    assert all(r.quality == "uncertain" for r in merged)
    first_minute = [float(i % 50) for i in range(60)]
    assert stats[("pm25", T0)] == {"min": 0.0, "max": 49.0, "mean": sum(first_minute) / 60, "count": 60}
    assert means[0].fields["pm25"] == pytest.approx(sum(first_minute) / 60)


def test_quota_downsamples_routine_data_keeps_weighings_and_counts_exactly(tmp_path: Path) -> None:
    buffer = DurableBuffer(tmp_path / "b.sqlite", quota=Quota(max_bytes=600_000))
    routine = 0
    for i in range(12_000):  # 12 000 s of PM at 1 Hz, a weighing every 10 minutes
        buffer.put(pm(i))
        routine += 1
        if i % 600 == 0:
            buffer.put(weighing(i))
        if i % 1000 == 999:
            buffer.commit()
    buffer.commit()
    stored = drain(buffer, "backlog") + drain(buffer, "live")
    drops = buffer.drops()
    weighings = [r for r in stored if r.measurement == "weighing"]
    assert len(weighings) == 20, "every weighing is kept"
    raw = [r for r in stored if r.measurement == "air_quality" and r.quality == "good"]
    merged = drops[("pm01", "downsampled")]
    dropped = drops[("pm01", "quota_routine")]
    assert merged > 0, "the quota was reached and routine data was downsampled"
    # Every routine reading is accounted for: still raw, or merged into a per-minute summary.
    assert len(raw) + merged == routine
    summarised = sum(
        int(r.fields["count"]) for r in stored if r.measurement == "downsampled" and r.tags["field"] == "pm25"
    )
    # This quota is met by downsampling alone: nothing had to be dropped, every merge is summarised.
    assert dropped == 0 and drops[("scale01", "quota_critical")] == 0
    assert summarised == merged
    buffer.close()


def test_tiny_quota_drops_routine_rows_oldest_first_and_still_keeps_weighings(tmp_path: Path) -> None:
    buffer = DurableBuffer(tmp_path / "b.sqlite", quota=Quota(max_bytes=120_000))
    for i in range(12_000):
        buffer.put(pm(i))
        if i % 600 == 0:
            buffer.put(weighing(i))
        if i % 1000 == 999:
            buffer.commit()
    buffer.commit()
    stored = drain(buffer, "backlog") + drain(buffer, "live")
    drops = buffer.drops()
    assert len([r for r in stored if r.measurement == "weighing"]) == 20
    assert drops[("scale01", "quota_critical")] == 0
    raw = [r for r in stored if r.measurement == "air_quality" and r.quality == "good"]
    summaries = [r for r in stored if r.quality == "uncertain"]
    assert drops[("pm01", "quota_downsampled")] > 0, "summaries had to go too"
    # Exact ledger: every raw reading is still here or was merged; every summary row made by the
    # merges is still here or counted as dropped.
    assert len(raw) + drops[("pm01", "downsampled")] == 12_000
    # Drops take the oldest first: the last minute is still there, at least as its summary.
    newest = max(r.time_ns for r in raw + summaries)
    assert newest >= T0 + 11_940 * 1_000_000_000
    assert min(r.time_ns for r in summaries) > T0, "the oldest summaries were the ones dropped"
