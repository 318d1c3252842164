"""Broker security: the deployment CA and certificates, gateway and service accounts, and the
Mosquitto password and ACL files generated from the account registry (issue 7)."""

from cloud.security.accounts import Credentials, Registry, RegistryError, reload_broker
from cloud.security.certs import CertError, CertPaths, init_certs

__all__ = [
    "CertError",
    "CertPaths",
    "Credentials",
    "Registry",
    "RegistryError",
    "init_certs",
    "reload_broker",
]
