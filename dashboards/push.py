"""Put a city's wall into a running Grafana through its HTTP API, with grafana-client.

Idempotent: each object is read first and written only when it differs, so a second push changes
nothing; ``dry_run`` reads and reports without writing. Objects: the folder, the InfluxDB data
source, the dashboards (``POST /api/dashboards/db`` with ``overwrite``) and the playlist (the
``/api/playlists`` API of Grafana 9–12, which grafana-client has no wrapper for, so it goes
through the client's generic request methods).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import requests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from dashboards.provisioning import Bundle

Action = Literal["create", "update", "unchanged"]
MESSAGE = "ioc dashboards push"


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: Action
    detail: str = ""

    def describe(self, dry_run: bool) -> str:
        verb = {"create": "create", "update": "update", "unchanged": "unchanged"}[self.action]
        if dry_run and self.action != "unchanged":
            verb = f"would {verb}"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{verb:>15}  {self.kind} {self.name}{extra}"


class PushError(RuntimeError):
    pass


def connect(url: str, token: str | None, timeout_s: float = 10.0) -> GrafanaApi:
    return GrafanaApi.from_url(url, credential=token, timeout=timeout_s)


def push(api: GrafanaApi, bundle: Bundle, dry_run: bool = False) -> tuple[list[Change], str]:
    """Bring Grafana in line with ``bundle``; returns the changes and the playlist's uid."""
    try:
        changes = [_folder(api, bundle, dry_run), _datasource(api, bundle.datasource, dry_run)]
        changes += [_dashboard(api, board, bundle.folder_uid, dry_run) for board in bundle.dashboards]
        playlist_change, playlist_uid = _playlist(api, bundle.playlist, dry_run)
    except GrafanaUnauthorizedError:
        raise PushError("Grafana refused the token (401): check the service-account token") from None
    except GrafanaException as exc:
        raise PushError(f"Grafana answered {exc.status_code}: {exc.message}") from None
    except requests.exceptions.RequestException as exc:
        raise PushError(f"Grafana unreachable at {api.url}: {exc}") from None
    return [*changes, playlist_change], playlist_uid


def _missing(call: Any, *args: Any) -> Any | None:
    """The object, or None when Grafana answers 404."""
    try:
        return call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def _folder(api: GrafanaApi, bundle: Bundle, dry_run: bool) -> Change:
    current = _missing(api.folder.get_folder, bundle.folder_uid)
    if current is None:
        if not dry_run:
            api.folder.create_folder(bundle.folder_title, uid=bundle.folder_uid)
        return Change("folder", bundle.folder_title, "create")
    if current.get("title") == bundle.folder_title:
        return Change("folder", bundle.folder_title, "unchanged")
    if not dry_run:
        api.folder.update_folder(bundle.folder_uid, title=bundle.folder_title, overwrite=True)
    return Change("folder", bundle.folder_title, "update", f"title was {current.get('title')!r}")


def _datasource(api: GrafanaApi, want: dict[str, Any], dry_run: bool) -> Change:
    name = want["name"]
    current = _missing(api.datasource.get_datasource_by_uid, want["uid"])
    if current is None:
        if not dry_run:
            api.datasource.create_datasource(want)
        return Change("data source", name, "create")
    differs = [k for k in ("name", "type", "access", "url", "isDefault") if current.get(k) != want[k]]
    have_json = current.get("jsonData") or {}
    differs += [f"jsonData.{k}" for k, v in want["jsonData"].items() if have_json.get(k) != v]
    # Grafana never returns secrets, only which ones are set.
    secrets = current.get("secureJsonFields") or {}
    differs += [f"secureJsonData.{k}" for k in want.get("secureJsonData", {}) if not secrets.get(k)]
    if not differs:
        return Change("data source", name, "unchanged")
    if current.get("readOnly"):
        raise PushError(
            f"data source {want['uid']!r} was provisioned from files and is read-only in Grafana; "
            f"change its YAML instead (it differs in {', '.join(differs)})"
        )
    if not dry_run:
        api.datasource.update_datasource_by_uid(want["uid"], want)
    return Change("data source", name, "update", ", ".join(differs))


def _comparable(board: dict[str, Any]) -> dict[str, Any]:
    # Grafana adds its own id and bumps version on every save.
    return {k: v for k, v in board.items() if k not in ("id", "version")}


def _dashboard(api: GrafanaApi, board: dict[str, Any], folder_uid: str, dry_run: bool) -> Change:
    title = f"{board['title']} [{board['uid']}]"
    current = _missing(api.dashboard.get_dashboard, board["uid"])
    action: Action = "create"
    detail = ""
    if current is not None:
        have = _comparable(current.get("dashboard") or {})
        keys = sorted(k for k in set(have) | set(board) if have.get(k) != board.get(k))
        moved = (current.get("meta") or {}).get("folderUid") != folder_uid
        if not keys and not moved:
            return Change("dashboard", title, "unchanged")
        action = "update"
        detail = ", ".join([*keys, *(["folder"] if moved else [])])
    if not dry_run:
        body = {
            "dashboard": _comparable(board),
            "folderUid": folder_uid,
            "overwrite": True,
            "message": MESSAGE,
        }
        api.dashboard.update_dashboard(body)
    return Change("dashboard", title, action, detail)


def _items(playlist: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(i.get("type")), str(i.get("value"))) for i in playlist.get("items") or []]


def _playlist(api: GrafanaApi, want: dict[str, Any], dry_run: bool) -> tuple[Change, str]:
    client = api.client
    uid = want["uid"]
    current = _missing(client.GET, f"/playlists/{uid}")
    if current is None:
        # Grafana versions that ignore a uid given on creation name their own: find it by name.
        found = [p for p in client.GET(f"/playlists?query={requests.utils.quote(want['name'])}") or []]
        match = next((p for p in found if p.get("name") == want["name"]), None)
        if match:
            uid, current = match["uid"], client.GET(f"/playlists/{match['uid']}")
    if current is None:
        created = {} if dry_run else client.POST("/playlists", json=want)
        return Change("playlist", want["name"], "create"), (created or {}).get("uid", uid)
    same = (current.get("name"), current.get("interval"), _items(current)) == (
        want["name"],
        want["interval"],
        _items(want),
    )
    if same:
        return Change("playlist", want["name"], "unchanged"), uid
    if not dry_run:
        body = {k: want[k] for k in ("name", "interval", "items")}
        client.PUT(f"/playlists/{uid}", json=body)
    return Change("playlist", want["name"], "update", "name, interval or items"), uid
