"""A Mosquitto with TLS, passwords and ACLs, started like ``ioc.services.Mosquitto`` (tests, demo).

Readiness is a TLS handshake against the deployment CA, not a bare TCP connect, so a broker that
started with the wrong certificate is not taken for ready."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from cloud.security.accounts import Registry
from cloud.security.certs import CertPaths
from ioc.services import Mosquitto


class SecureMosquitto(Mosquitto):
    config_template = "mosquitto-secure.conf"

    def __init__(self, data_dir: Path, certs: CertPaths, registry: Registry, bind_address: str = "127.0.0.1"):
        self.certs = certs
        self.registry = registry
        self.bind_address = bind_address
        super().__init__(data_dir)

    def _template_values(self) -> dict[str, object]:
        return {
            **super()._template_values(),
            "bind_address": self.bind_address,
            "cafile": self.certs.ca_cert,
            "certfile": self.certs.server_cert,
            "keyfile": self.certs.server_key,
            "password_file": self.registry.password_file,
            "acl_file": self.registry.acl_file,
        }

    def ssl_context(self) -> ssl.SSLContext:
        """What a client that trusts only the deployment CA uses (tests; paho's ``tls_set`` does the same)."""
        return ssl.create_default_context(cafile=str(self.certs.ca_cert))

    def ready(self) -> bool:
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=0.5) as raw,
                self.ssl_context().wrap_socket(raw, server_hostname="localhost"),
            ):
                return True
        except (OSError, ssl.SSLError):
            return False
