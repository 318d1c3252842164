"""How every MQTT client of ours (gateway uplink, ingest, alert service) presents itself to the
broker: its account and TLS, set once before connecting."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from ioc.config import TlsFiles


def authenticate(client: mqtt.Client, credentials: tuple[str, str] | None, tls: TlsFiles | None) -> None:
    if credentials is not None:
        client.username_pw_set(*credentials)
    if tls is not None:
        # Once per client: paho refuses a second tls_set, the error ThingsBoard users meet on reconnect.
        client.tls_set(ca_certs=tls.ca_file, certfile=tls.cert_file, keyfile=tls.key_file)
