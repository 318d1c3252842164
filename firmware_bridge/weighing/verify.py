"""Re-computes every hash and link of a weighing chain and names the first record that breaks it.

A chain proves that nothing was changed, removed or reordered *inside* it; cutting records off the
end leaves a shorter chain that still verifies, so compare ``last_sequence``/``last_hash`` with an
independent copy (the records in InfluxDB, which leave the gateway at once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_bridge.weighing import chain


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int  # records that verified before the first broken one (all of them when ok)
    last_sequence: int | None = None  # of the last record that verified
    last_hash: str | None = None
    line: int | None = None  # 1-based line (journal) or position (records) of the first broken record
    sequence: int | None = None  # its sequence, when it could be read
    reason: str = (
        ""  # unparseable, torn_line, bad_record, hash_mismatch, sequence_gap, sequence_order, broken_link
    )
    detail: str = ""

    def __bool__(self) -> bool:
        return self.ok


class _Broken(Exception):
    def __init__(
        self, reason: str, detail: str, sequence: int | None = None, line: int | None = None
    ) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.sequence, self.line = reason, detail, sequence, line


def verify_records(records: Iterable[Mapping[str, Any]], *, from_genesis: bool = True) -> VerifyResult:
    """Verify one device's records in chain order, as journal dicts or as rows read back from
    InfluxDB (fields as stored, the ``device`` tag, time as ``time_ns`` or ``time``).

    ``from_genesis=False`` accepts a window that starts mid-chain (a time-range query): the first
    record's link is taken as given and every later one is checked against it.
    """
    return _verify(enumerate(records, start=1), from_genesis=from_genesis)


def verify_chain(path: str | Path) -> VerifyResult:
    """Verify a journal file from its first record. OSError when the file cannot be read."""
    path = Path(path)
    with open(path, "rb") as journal:
        return _verify(_journal_lines(journal), from_genesis=True)


def _journal_lines(journal: Iterable[bytes]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, raw in enumerate(journal, start=1):
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            # Only the last line can lack its newline; that is a write a crash cut short.
            torn = not raw.endswith(b"\n")
            reason = "torn_line" if torn else "unparseable"
            what = "the last line is cut short (a crash during a write?)" if torn else "not a JSON record"
            raise _Broken(reason, f"{what}: {raw[:80]!r}", line=number) from None
        if not isinstance(record, dict):
            raise _Broken("unparseable", f"not a JSON object: {raw[:80]!r}", line=number)
        yield number, record


def _verify(numbered: Iterator[tuple[int, Mapping[str, Any]]], *, from_genesis: bool) -> VerifyResult:
    count = 0
    last_sequence: int | None = None
    last_hash: str | None = chain.GENESIS if from_genesis else None
    number = 0
    try:
        for number, raw in numbered:  # noqa: B007 - ``number`` names the broken record below
            record = _checked(raw)
            sequence = record["sequence"]
            _check_sequence(sequence, last_sequence, from_genesis)
            if last_hash is not None and record["prev_hash"] != last_hash:
                raise _Broken(
                    "broken_link",
                    f"prev_hash {record['prev_hash'][:16]}… is not the hash of the record before it "
                    f"({last_hash[:16]}…): that record was changed, removed or replaced",
                    sequence,
                )
            count, last_sequence, last_hash = count + 1, sequence, record["record_hash"]
    except _Broken as broken:
        return VerifyResult(
            ok=False,
            count=count,
            last_sequence=last_sequence,
            last_hash=last_hash if count else None,
            line=broken.line if broken.line is not None else number,
            sequence=broken.sequence,
            reason=broken.reason,
            detail=broken.detail,
        )
    return VerifyResult(
        ok=True, count=count, last_sequence=last_sequence, last_hash=last_hash if count else None
    )


def _checked(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its own hash checked (links are checked by the caller)."""
    try:
        record = chain.normalise(raw)
        record["prev_hash"] = chain.link_of(raw, "prev_hash")
        record["record_hash"] = chain.link_of(raw, "record_hash")
    except chain.RecordError as exc:
        sequence = raw.get("sequence")
        raise _Broken("bad_record", str(exc), sequence if isinstance(sequence, int) else None) from None
    computed = chain.record_hash(record["prev_hash"], record)
    if computed != record["record_hash"]:
        raise _Broken(
            "hash_mismatch",
            f"record_hash {record['record_hash'][:16]}… but the content hashes to {computed[:16]}…: "
            "a field of this record was changed after it was written",
            record["sequence"],
        )
    return record


def _check_sequence(sequence: int, last: int | None, from_genesis: bool) -> None:
    if last is None:
        if from_genesis and sequence != 1:
            raise _Broken("sequence_gap", f"the chain starts at sequence {sequence}, not 1", sequence)
        return
    if sequence == last + 1:
        return
    if sequence <= last:
        raise _Broken(
            "sequence_order", f"sequence {sequence} after {last}: out of order or repeated", sequence
        )
    raise _Broken("sequence_gap", f"sequence {sequence} after {last}: records are missing", sequence)
