"""Write line protocol to InfluxDB through the v1 ``/write`` API (every InfluxDB 1.x and 1.8+).

The v2 API writer (influxdb-client's WriteApi) arrives with the cloud issue; both share this
interface: ``write(lines)`` returns when InfluxDB accepted the points or raises WriteError.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence

import urllib3


class WriteError(RuntimeError):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        # retryable: the database is away or overloaded; try the same points again later.
        # not retryable: InfluxDB refused these points (type conflict, outside retention):
        # sending them again cannot help, so the caller records them as rejects.
        self.retryable = retryable


class InfluxV1Writer:
    def __init__(self, url: str, database: str, timeout_s: float = 30.0) -> None:
        query = urllib.parse.urlencode({"db": database, "precision": "ns"})
        self.endpoint = f"{url.rstrip('/')}/write?{query}"
        self.database = database
        self._http = urllib3.PoolManager(
            retries=False, timeout=urllib3.Timeout(connect=2.0, read=timeout_s), maxsize=4
        )

    def write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        body = "\n".join(lines).encode()
        try:
            response = self._http.request("POST", self.endpoint, body=body)
        except urllib3.exceptions.HTTPError as exc:
            raise WriteError(f"InfluxDB unreachable: {exc}", retryable=True) from None
        if response.status < 300:
            return
        detail = response.data[:500].decode(errors="replace")
        # 4xx: InfluxDB parsed the request and refused (some of) the points; 5xx: try again.
        raise WriteError(f"InfluxDB answered {response.status}: {detail}", retryable=response.status >= 500)


class InfluxV2Writer:
    """Line protocol through the v2 ``/api/v2/write`` API with influxdb-client: InfluxDB 2.x, 3.x,
    Cloud, 1.8+ (bucket "db/rp"), and servers that speak it (VictoriaMetrics)."""

    def __init__(
        self, url: str, bucket: str, token: str = "", org: str = "-", timeout_s: float = 30.0
    ) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.bucket, self.org = bucket, org
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: Sequence[str]) -> None:
        from influxdb_client.rest import ApiException
        from urllib3.exceptions import HTTPError

        if not lines:
            return
        try:
            self._write.write(bucket=self.bucket, org=self.org, record="\n".join(lines))
        except ApiException as exc:
            detail = (exc.body or b"")[:500] if isinstance(exc.body, bytes) else str(exc.body)[:500]
            raise WriteError(
                f"InfluxDB answered {exc.status}: {detail}", retryable=(exc.status or 500) >= 500
            ) from None
        except (HTTPError, OSError) as exc:
            raise WriteError(f"InfluxDB unreachable: {exc}", retryable=True) from None

    def close(self) -> None:
        self._client.close()
