"""Checks across the whole file that a single model cannot make: unique ids, references, shared ports.

They read the raw YAML data rather than the validated models so that they still run, and still
report, when another part of the file failed validation.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from ioc.config.errors import ProblemLog, suggest
from ioc.config.yaml_lines import YamlPath, line_of

# host:port (LAN devices) is not a serial bus; everything else (/dev/..., COM3) is.
_NETWORK_PORT = re.compile(r"^[\w.\-\[\]:]+:\d+$")


def _entries(data: Any, path: YamlPath) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    if isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, dict):
                yield (*path, index), item


def _unique_ids(log: ProblemLog, entries: list[tuple[YamlPath, dict[str, Any]]], what: str) -> set[str]:
    seen: dict[str, YamlPath] = {}
    for path, entry in entries:
        ident = entry.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            first = line_of(log.lines, (*seen[ident], "id"))
            log.add((*path, "id"), f"duplicate {what} id '{ident}' (first defined at line {first})")
        else:
            seen[ident] = path
    return set(seen)


def _reference(log: ProblemLog, path: YamlPath, value: Any, site_ids: set[str]) -> None:
    if isinstance(value, str) and value not in site_ids:
        log.add(path, f"unknown site '{value}'", suggest(value, sorted(site_ids)))


def _shared_ports(
    log: ProblemLog, devices: list[tuple[YamlPath, dict[str, Any]]], families: Collection[str] | None
) -> None:
    first_on_port: dict[str, dict[str, Any]] = {}
    for path, device in devices:
        port = device.get("port")
        if not isinstance(port, str) or _NETWORK_PORT.match(port):
            continue
        other = first_on_port.setdefault(port, device)
        if other is device:
            continue
        family, baud = device.get("family"), device.get("baudrate")
        other_family, other_baud = other.get("family"), other.get("baudrate")
        # A typo'd family is reported once, as unknown, not again as a clash on its port.
        known = [
            f for f in (family, other_family) if isinstance(f, str) and (families is None or f in families)
        ]
        if len(known) == 2 and family != other_family and not _both_share_bus(families, family, other_family):
            log.add(
                (*path, "port"),
                f"port '{port}' is already used by device '{other.get('id')}' of family "
                f"'{other_family}'; devices of different families cannot share a serial port",
            )
        elif isinstance(baud, int) and isinstance(other_baud, int) and baud != other_baud:
            log.add(
                (*path, "baudrate"),
                f"baud conflict on shared bus '{port}': device '{other.get('id')}' runs it at "
                f"{other_baud} baud, this one at {baud}",
            )


def _both_share_bus(families: Collection[str] | None, *names: Any) -> bool:
    # Specs come as a mapping name → FamilySpec; a plain list of names knows of no bus families.
    if not isinstance(families, Mapping):
        return False
    return all(getattr(families.get(name), "shares_bus", False) for name in names)


def cross_check(data: dict[str, Any], log: ProblemLog, families: Collection[str] | None) -> None:
    sites = list(_entries(data.get("sites"), ("sites",)))
    gateways = list(_entries(data.get("gateways"), ("gateways",)))
    site_ids = _unique_ids(log, sites, "site")
    _unique_ids(log, gateways, "gateway")
    # Without a sites list every reference would be "unknown": that noise hides the real problem.
    check_refs = isinstance(data.get("sites"), list)
    all_devices: list[tuple[YamlPath, dict[str, Any]]] = []
    for gw_path, gateway in gateways:
        if check_refs:
            _reference(log, (*gw_path, "site"), gateway.get("site"), site_ids)
        devices = list(_entries(gateway.get("devices"), (*gw_path, "devices")))
        all_devices.extend(devices)
        for path, device in devices:
            if check_refs:
                _reference(log, (*path, "site"), device.get("site"), site_ids)
            family = device.get("family")
            if families is not None and isinstance(family, str) and family not in families:
                message = f"unknown device family '{family}'"
                log.add((*path, "family"), message, suggest(family, sorted(families)))
        _shared_ports(log, devices, families)
    _unique_ids(log, all_devices, "device")
