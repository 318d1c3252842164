"""The operations center's API (FastAPI): registry, fleet, indices, alerts, config versions,
camera snapshots; roles through hashed API tokens; small state in SQLite."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud.api.app import create_app
    from cloud.api.settings import ApiSettings, BrokerAddress
    from cloud.api.tokens import create_token

__all__ = ["ApiSettings", "BrokerAddress", "create_app", "create_token"]
_HOMES = {
    "create_app": "cloud.api.app",
    "ApiSettings": "cloud.api.settings",
    "BrokerAddress": "cloud.api.settings",
    "create_token": "cloud.api.tokens",
}


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m cloud.api.roles` (the README's role table) does not import the app first.
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
