"""The remote-config message on ``ioc/v1/{city}/{gateway}/config`` (retained): one definition for
the cloud that publishes it and the agent that reads it.

``{"version": "2026-11-26.1", "yaml": "<the whole city config>"}``
"""

from __future__ import annotations

import json
import re
from typing import Final

MAX_CONFIG_BYTES: Final = 512 * 1024
VERSION_PATTERN: Final = re.compile(r"^[\w.\-:]{1,64}$")


class ConfigMessageError(ValueError):
    pass


def encode(version: str, text: str) -> bytes:
    if not VERSION_PATTERN.match(version):
        raise ConfigMessageError(f"version {version!r} must be 1–64 of A–Z a–z 0–9 _ . - :")
    data = json.dumps({"version": version, "yaml": text}, ensure_ascii=False).encode()
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigMessageError(f"config message of {len(data)} bytes exceeds {MAX_CONFIG_BYTES}")
    return data


def decode(payload: bytes) -> tuple[str, str]:
    """(version, yaml text); ConfigMessageError says why a message is not one."""
    if len(payload) > MAX_CONFIG_BYTES:
        raise ConfigMessageError(f"config message of {len(payload)} bytes exceeds {MAX_CONFIG_BYTES}")
    try:
        doc = json.loads(payload)
        version, text = doc["version"], doc["yaml"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigMessageError(f"not a config message: {exc}") from None
    if not isinstance(version, str) or not VERSION_PATTERN.match(version) or not isinstance(text, str):
        raise ConfigMessageError(
            "not a config message: version must be 1–64 of A–Z a–z 0–9 _ . - :, yaml a string"
        )
    return version, text
