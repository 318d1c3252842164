"""NTCIP 1202 (Actuated Signal Controller MIB) object identifiers this family reads or serves.

The phase status group columns come from standards.md section 5. The unit and coordination scalars
were checked against a public pysmi compilation of the NTCIP 1202 ASC MIB (Metrolla-Inc/ntcipy,
``py_mibs/ASC_MIB1.py``); they are kept in the one ``SCALARS`` table so a device config can override
them (``options.oids``) for a controller whose firmware puts them elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

ASC: Final = "1.3.6.1.4.1.1206.4.2.1"  # nema.transportation.devices.asc
PHASE: Final = f"{ASC}.1"
PHASE_ENTRY: Final = f"{PHASE}.2.1"  # phaseTable.phaseEntry.<column>.<phase>
STATUS_ENTRY: Final = f"{PHASE}.4.1"  # phaseStatusGroupTable.phaseStatusGroupEntry.<column>.<group>
MAX_PHASES: Final = f"{PHASE}.1.0"
MAX_PHASE_GROUPS: Final = f"{PHASE}.3.0"

# phaseStatusGroupEntry columns; each value is an 8-bit mask, bit 0 = the group's first phase.
StatusColumn = Literal[
    "reds", "yellows", "greens", "dont_walks", "ped_clears", "walks", "vehicle_calls", "ped_calls"
]
STATUS_COLUMNS: Final[dict[StatusColumn, int]] = {
    "reds": 2,
    "yellows": 3,
    "greens": 4,
    "dont_walks": 5,
    "ped_clears": 6,
    "walks": 7,
    "vehicle_calls": 8,
    "ped_calls": 9,
}
STATUS_GROUP_NUMBER_COLUMN: Final = 1

# phaseEntry timing columns (served by the simulator; not in the measurement dictionary, so not polled).
# Units per the MIB: minimum green and maximum 1 in seconds, yellow change and red clear in tenths.
TIMING_COLUMNS: Final[dict[str, int]] = {"min_green": 4, "max1": 6, "yellow_change": 8, "red_clear": 9}

# Scalars are read at instance .0. Values (NTCIP 1202 v01 enumerations):
#   unitControlStatus  1 other, 2 systemControl, 3 systemStandby, 4 backupMode, 5 manual, 6 timebase,
#                      7 interconnect, 8 interconnectBackup
#   unitFlashStatus    1 other, 2 notFlash, 3 automatic, 4 localManual, 5 faultMonitor, 6 mmu, 7 startup,
#                      8 preempt
#   shortAlarmStatus   bitmask; bit 0 critical alarm, bit 1 non-critical alarm (bit meanings unconfirmed)
#   coordPatternStatus 0 none (transition), 1..253 pattern, 254 free, 255 flash
ScalarName = Literal["unitControlStatus", "unitFlashStatus", "shortAlarmStatus", "coordPatternStatus"]
SCALARS: Final[dict[ScalarName, str]] = {
    "unitControlStatus": f"{ASC}.3.5.0",
    "unitFlashStatus": f"{ASC}.3.6.0",
    "shortAlarmStatus": f"{ASC}.3.9.0",
    "coordPatternStatus": f"{ASC}.4.10.0",
}


def group_of(phase: int) -> tuple[int, int]:
    """(phase status group, bit) of a phase: phases 1-8 are group 1 bits 0-7, 9-16 group 2, …"""
    return (phase - 1) // 8 + 1, (phase - 1) % 8


def status_oid(column: StatusColumn, group: int) -> str:
    return f"{STATUS_ENTRY}.{STATUS_COLUMNS[column]}.{group}"


def timing_oid(column: str, phase: int) -> str:
    return f"{PHASE_ENTRY}.{TIMING_COLUMNS[column]}.{phase}"


def status_key(column: StatusColumn, group: int) -> str:
    """The key a polled status value is stored under in the values mapping the decoder reads."""
    return f"{column}.{group}"


def poll_table(phases: Iterable[int], overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """key → OID of everything one poll GETs: the status columns of every group holding a configured
    phase, then the scalars (an override of None leaves that scalar out)."""
    table: dict[str, str] = {}
    for group in sorted({group_of(p)[0] for p in phases}):
        for column in STATUS_COLUMNS:
            table[status_key(column, group)] = status_oid(column, group)
    scalars: dict[str, str | None] = {**SCALARS, **(overrides or {})}
    for name, oid in scalars.items():
        if oid:
            table[name] = oid
    return table
