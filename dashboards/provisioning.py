"""Everything Grafana needs for a city's wall, as one bundle, and that bundle as provisioning files.

The same bundle goes through the HTTP API (dashboards/push.py), so files and API never differ.
Written for Grafana 11.6 and later (dashboard schemaVersion 41, from grafana-foundation-sdk
11.6) and for InfluxDB 1.x (InfluxQL, ``/query``) or 2.x/3.x (InfluxQL through the v1
compatibility API: a DBRP mapping for the bucket and a token sent as ``Authorization: Token …``).
Grafana cannot provision playlists from files, so the playlist is written as the body of
``POST /api/playlists`` for ``ioc dashboards push`` (or a curl) to create.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from dashboards.i18n import Locale
from dashboards.influxql import DATASOURCE_UID
from dashboards.wall import build_all, to_json
from ioc.config import CityConfig

DATASOURCE_NAME: Final = "IOC InfluxDB"
PLAYLIST_INTERVAL: Final = "1m"
Api = Literal["v1", "v2"]


@dataclass(frozen=True)
class InfluxSource:
    """The InfluxDB that Grafana's server (not the browser) reaches."""

    url: str
    database: str  # 1.x database; 2.x: the database name of the bucket's DBRP mapping
    api: Api = "v1"
    token_env: str = "INFLUXDB_TOKEN"  # 2.x: the environment variable holding the token

    def datasource(self, token: str | None = None) -> dict[str, Any]:
        """The data source as the HTTP API takes it. ``token``: the 2.x token to send; None writes
        a reference to ``$token_env`` that Grafana expands when it reads a provisioning file."""
        json_data: dict[str, Any] = {
            "dbName": self.database,
            "httpMode": "POST",
            "version": "InfluxQL",
            "timeInterval": "10s",  # gateways report health every 10 s; finer buckets are empty
        }
        body: dict[str, Any] = {
            "uid": DATASOURCE_UID,
            "name": DATASOURCE_NAME,
            "type": "influxdb",
            "access": "proxy",
            "url": self.url,
            "isDefault": True,
            "jsonData": json_data,
        }
        if self.api == "v2":
            json_data["httpHeaderName1"] = "Authorization"
            value = token if token is not None else f"${{{self.token_env}}}"
            body["secureJsonData"] = {"httpHeaderValue1": f"Token {value}"}
        return body


@dataclass(frozen=True)
class Bundle:
    city: str
    folder_uid: str
    folder_title: str
    datasource: dict[str, Any]
    dashboards: list[dict[str, Any]]
    playlist: dict[str, Any] = field(default_factory=dict)

    def kiosk_url(self, grafana_url: str, uid: str | None = None) -> str:
        """One dashboard full screen: no menus, panels fitted to the screen, dark theme."""
        board = uid or self.dashboards[0]["uid"]
        return (
            f"{grafana_url.rstrip('/')}/d/{board}?orgId=1&var-city={self.city}&kiosk&autofitpanels&theme=dark"
        )

    def playlist_url(self, grafana_url: str, playlist_uid: str | None = None) -> str:
        """The rotating wall: the playlist in kiosk mode."""
        uid = playlist_uid or self.playlist["uid"]
        return f"{grafana_url.rstrip('/')}/playlists/play/{uid}?kiosk&autofitpanels&theme=dark"


def make_bundle(
    config: CityConfig,
    locale: str = "vi",
    source: InfluxSource | None = None,
    today: dt.date | None = None,
    token: str | None = None,
) -> Bundle:
    """``token``: the InfluxDB 2.x token to put in the data source (API push); None keeps the
    environment-variable reference a provisioning file needs."""
    lang = Locale(locale)
    city = config.city
    source = source or InfluxSource(config.influxdb.url, config.influxdb.database)
    boards = [to_json(d) for d in build_all(config, locale, today)]
    playlist = {
        "uid": f"ioc-{city.id}-wall",
        "name": f"{lang.t('wall')} — {city.name}",
        "interval": PLAYLIST_INTERVAL,
        "items": [{"type": "dashboard_by_uid", "value": b["uid"]} for b in boards],
    }
    return Bundle(city.id, f"ioc-{city.id}", f"IOC — {city.name}", source.datasource(token), boards, playlist)


@dataclass(frozen=True)
class Written:
    files: list[Path]
    provisioning: Path  # point Grafana's paths.provisioning here
    dashboards_dir: Path


def write_files(
    bundle: Bundle, source: InfluxSource, out: Path, dashboards_path: str | None = None
) -> Written:
    """Provisioning files under ``out``. ``dashboards_path``: where the dashboard JSON will be on
    the Grafana host (default: where it is written now, for a Grafana on this machine)."""
    out = out.resolve()
    prov = out / "provisioning"
    boards_dir = out / "dashboards" / bundle.city
    for folder in (prov / "datasources", prov / "dashboards", boards_dir):
        folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        files.append(path)

    # One active flavour (the uid must be unique); the other sits beside it, ignored by Grafana
    # (it reads *.yaml and *.yml only) until renamed.
    other: Api = "v2" if source.api == "v1" else "v1"
    write(prov / "datasources" / "ioc-influxdb.yaml", _datasource_yaml(source))
    alternative = InfluxSource(source.url, source.database, other, source.token_env)
    write(prov / "datasources" / f"ioc-influxdb-{other}.yaml.example", _datasource_yaml(alternative))
    provider = {
        "apiVersion": 1,
        "providers": [
            {
                "name": f"ioc-{bundle.city}",
                "orgId": 1,
                "folder": bundle.folder_title,
                "folderUid": bundle.folder_uid,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,  # the wall is code: changes go through the config
                "updateIntervalSeconds": 30,
                "options": {"path": dashboards_path or str(boards_dir), "foldersFromFilesStructure": False},
            }
        ],
    }
    write(prov / "dashboards" / f"ioc-{bundle.city}.yaml", _yaml(provider))
    for board in bundle.dashboards:
        write(boards_dir / f"{board['uid']}.json", json.dumps(board, indent=2, ensure_ascii=False) + "\n")
    write(
        out / f"playlist-{bundle.city}.json", json.dumps(bundle.playlist, indent=2, ensure_ascii=False) + "\n"
    )
    return Written(files, prov, boards_dir)


def _datasource_yaml(source: InfluxSource) -> str:
    item = source.datasource()
    item["editable"] = False
    header = (
        "# InfluxDB 2.x/3.x: InfluxQL through a DBRP mapping; Grafana expands the token variable.\n"
        if source.api == "v2"
        else "# InfluxDB 1.x, InfluxQL.\n"
    )
    return header + _yaml({"apiVersion": 1, "datasources": [item]})


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def grafana_env(written: Written) -> dict[str, str]:
    """Environment for a Grafana on this machine to load the wall (and start dark)."""
    return {"GF_PATHS_PROVISIONING": str(written.provisioning), "GF_USERS_DEFAULT_THEME": "dark"}


def instructions(bundle: Bundle, written: Written, source: InfluxSource, grafana_url: str) -> str:
    """How to point a Grafana at the files and open the wall (for `ioc dashboards build`, the demo)."""
    env = " ".join(f"{k}={v}" for k, v in grafana_env(written).items())
    lines = [
        "Point a Grafana (11.6 or later) at it:",
        f"  {env} grafana server --homepath /usr/share/grafana",
        f"  or copy {written.provisioning}/* into /etc/grafana/provisioning/",
        f"Data source: {source.url} database {source.database!r}, InfluxDB "
        + (
            "1.x"
            if source.api == "v1"
            else f"2.x/3.x, token from ${source.token_env} in Grafana's environment"
        ),
        f"Wall, one screen:  {bundle.kiosk_url(grafana_url)}",
        "Wall, rotating:    files cannot create a playlist; run `ioc dashboards push`, then open",
        f"                   {bundle.playlist_url(grafana_url)}",
    ]
    return "\n".join(lines)
