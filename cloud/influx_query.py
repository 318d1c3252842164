"""InfluxQL reads for the cloud side (indices, alerts, ledger, API) through the v1 ``/query``
endpoint, which every InfluxDB version answers (2.x and 3.x through their v1 compatibility API)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import urllib3


class QueryError(RuntimeError):
    pass


class InfluxQuery:
    def __init__(self, url: str, database: str, token: str = "", timeout_s: float = 30.0) -> None:
        self.url, self.database = url.rstrip("/"), database
        self._headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            self._headers["Authorization"] = f"Token {token}"
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2.0, read=timeout_s))

    def raw(self, q: str) -> dict[str, Any]:
        body = urllib.parse.urlencode({"q": q, "db": self.database, "epoch": "ns"})
        try:
            response = self._http.request("POST", f"{self.url}/query", body=body, headers=self._headers)
        except urllib3.exceptions.HTTPError as exc:
            raise QueryError(f"InfluxDB unreachable at {self.url}: {exc}") from None
        try:
            doc = response.json()
        except ValueError:
            raise QueryError(f"InfluxDB answered {response.status}: {response.data[:200]!r}") from None
        errors = [r["error"] for r in doc.get("results", []) if "error" in r]
        if response.status >= 300 or "error" in doc or errors:
            raise QueryError(f"InfluxQL {q!r} failed: {doc.get('error') or errors}")
        return doc

    def rows(self, q: str) -> list[dict[str, Any]]:
        """Every row of every series, as column → value plus the series' tags and ``_measurement``;
        ``time`` is in ns."""
        out: list[dict[str, Any]] = []
        for result in self.raw(q)["results"]:
            for series in result.get("series", []):
                for values in series["values"]:
                    row = dict(zip(series["columns"], values, strict=True))
                    row.update(series.get("tags") or {})
                    row["_measurement"] = series["name"]
                    out.append(row)
        return out


def quote_ident(name: str) -> str:
    """An InfluxQL identifier, quoted: names come from configs, never trusted into a query."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n"})


def quote_literal(value: str) -> str:
    """An InfluxQL string literal. Control characters other than a newline have no escape in
    InfluxQL and would break the query: refused."""
    if any(ord(c) < 32 and c != "\n" for c in value):
        raise ValueError(f"control characters cannot be queried: {value!r}")
    return "'" + value.translate(_LITERAL_ESCAPES) + "'"
