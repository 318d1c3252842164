"""Broker security against the real Mosquitto with TLS: each gateway reaches only its own topics,
a revoked gateway is refused without a broker restart, a client without TLS is refused, and
ingest refuses a batch whose tags claim another gateway even though the broker let it through."""

from __future__ import annotations

import base64
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.influx_writer import InfluxV1Writer
from cloud.ingest import IngestWorker
from cloud.security import Credentials, Registry, RegistryError, init_certs
from cloud.security.broker import SecureMosquitto
from cloud.security.certs import CertPaths
from cloud.security.mosquitto_files import mosquitto_hash, verify_hash
from edge.agent import AgentOptions, EdgeAgent
from firmware_bridge import registry
from ioc import payload, topics
from ioc.config import TlsFiles, parse_city
from ioc.mqtt_auth import authenticate
from ioc.reading import Reading
from ioc.secrets import InsecureFileError, check_private
from ioc.services import InfluxDB
from tests.pipeline import ONE_SENSOR_CITY, wait_for

pytestmark = [pytest.mark.timeout(60)]


@dataclass
class Secure:
    broker: SecureMosquitto
    registry: Registry
    certs: CertPaths
    services: dict[str, Credentials] = field(default_factory=dict)


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    root = tmp_path_factory.mktemp("secure")
    certs = init_certs(root / "certs")
    registry = Registry(root / "registry")
    services = {role: registry.enrol_service(role) for role in ("ingest", "api")}
    with SecureMosquitto(root / "mosquitto", certs, registry) as broker:
        yield Secure(broker, registry, certs, services)


class Client:
    """A paho client that records whether the broker accepted it and what it received."""

    def __init__(self, secure: Secure, creds: Credentials | None, tls: bool = True) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        authenticate(
            self.client,
            (creds.username, creds.password) if creds else None,
            TlsFiles(ca_file=str(secure.certs.ca_cert)) if tls else None,
        )
        self.client.reconnect_delay_set(5, 5)  # one attempt is what a test looks at
        self.outcome: str | None = None
        self.messages: list[mqtt.MQTTMessage] = []
        self.done = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _c, _u, msg: self.messages.append(msg)
        self.client.connect_async(secure.broker.host, secure.broker.port)
        self.client.loop_start()
        wait_for(self.done.is_set, 10, "the broker's answer")

    def _on_connect(self, _c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        self.outcome = self.outcome or ("refused: " + str(reason) if reason.is_failure else "accepted")
        self.done.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.outcome = self.outcome or "disconnected"
        self.done.set()

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted" and self.client.is_connected()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mosquitto_hash_matches_mosquitto_passwd() -> None:
    # Made by `mosquitto_passwd -b` (Mosquitto 2.0.11) for password "s3cret".
    made_by_mosquitto = (
        "$7$101$lcJOKlxPwFwBG2nb$"
        "nMRXIzSVHvDDUSht0io9hU9CE3aQuH0CO9e12ijxOME88GaBjW/eh5B+E20teUCX1I7s5/U02+z3Il487WhRcQ=="
    )
    assert mosquitto_hash("s3cret", base64.b64decode("lcJOKlxPwFwBG2nb")) == made_by_mosquitto
    assert verify_hash("s3cret", made_by_mosquitto) and not verify_hash("s3cre7", made_by_mosquitto)


def test_keys_and_registry_are_private_and_the_ca_is_kept(tmp_path: Path) -> None:
    first = init_certs(tmp_path / "certs", ["broker.hue.example.vn"])
    ca = first.ca_cert.read_bytes()
    again = init_certs(tmp_path / "certs")
    assert again.ca_cert.read_bytes() == ca  # re-running must not cut gateways off their trust
    registry = Registry(tmp_path / "registry")
    for secret in (first.ca_key, first.server_key, registry.path, registry.password_file):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    first.ca_key.chmod(0o644)
    with pytest.raises(InsecureFileError, match="chmod 600"):
        check_private(first.ca_key)


def test_enrolment_refuses_bad_ids_and_accidental_re_enrolment(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    creds = registry.enrol_gateway("hue", "gw01")
    assert creds.password not in repr(creds)
    with pytest.raises(RegistryError, match="already enrolled"):
        registry.enrol_gateway("hue", "gw01")
    assert registry.enrol_gateway("hue", "gw01", rotate=True).password != creds.password
    with pytest.raises(RegistryError, match="must match"):
        registry.enrol_gateway("hue", "gw/#")
    with pytest.raises(RegistryError, match="role"):
        registry.enrol_service("root")


@pytest.mark.integration
def test_without_tls_or_without_a_valid_password_the_broker_refuses(secure: Secure, city_id: str) -> None:
    creds = secure.registry.enrol_gateway(city_id, "gw01", broker_pid=secure.broker.process.pid)
    wait_for(lambda: _accepted(secure, creds), 10, "the enrolled gateway accepted")
    attempts = {
        "no TLS": Client(secure, creds, tls=False),
        "no password": Client(secure, None),
        "wrong password": Client(secure, Credentials(creds.username, "guess")),
    }
    for what, client in attempts.items():
        client.close()
        assert not client.accepted, f"{what}: {client.outcome}"


@pytest.mark.integration
def test_a_gateway_reaches_only_its_own_topics(secure: Secure, city_id: str) -> None:
    a = secure.registry.enrol_gateway(city_id, "gw-a")
    b = secure.registry.enrol_gateway(city_id, "gw-b", broker_pid=secure.broker.process.pid)
    wait_for(lambda: _accepted(secure, b), 10, "the enrolled gateways accepted")
    api = Client(secure, secure.services["api"])
    ingest = Client(secure, secure.services["ingest"])
    gateway_a = Client(secure, a)
    try:
        for gw in ("gw-a", "gw-b"):
            api.client.publish(topics.topic(city_id, gw, "config"), f"config of {gw}", qos=1, retain=True)
        ingest.client.subscribe(topics.ingest_subscription(city_id), qos=1)
        ingest.client.subscribe(f"{topics.PREFIX}/{city_id}/+/config", qos=1)  # ingest may not read these
        time.sleep(0.5)  # SUBACK is not awaited by subscribe(); give it a moment before publishing
        # A forges B's batch, then sends its own: messages of one publisher arrive in order, so once
        # A's own is in, the forged one would have been there before it.
        gateway_a.client.publish(topics.topic(city_id, "gw-b", "up"), b"forged", qos=1)
        gateway_a.client.publish(topics.topic(city_id, "gw-a", "up"), b"own", qos=1)
        wait_for(lambda: any(m.payload == b"own" for m in ingest.messages), 10, "A's own batch")
        assert [m.payload for m in ingest.messages] == [b"own"]

        # Retained configs come on subscription, in subscription order: B's first, then A's own.
        gateway_a.client.subscribe(topics.topic(city_id, "gw-b", "config"), qos=1)
        gateway_a.client.subscribe(topics.topic(city_id, "gw-a", "config"), qos=1)
        wait_for(lambda: gateway_a.messages, 10, "A's own config")
        assert [m.payload for m in gateway_a.messages] == [b"config of gw-a"]
    finally:
        for client in (api, ingest, gateway_a):
            client.close()


@pytest.mark.integration
def test_a_revoked_gateway_is_refused_without_a_broker_restart(secure: Secure, city_id: str) -> None:
    pid = secure.broker.process.pid
    creds = secure.registry.enrol_gateway(city_id, "gw01", broker_pid=pid)
    wait_for(lambda: _accepted(secure, creds), 10, "the enrolled gateway accepted")
    live = Client(secure, creds)
    assert live.accepted
    secure.registry.revoke_gateway(city_id, "gw01", broker_pid=pid)
    # SIGHUP is handled by the broker's loop soon after, not before kill() returns: ask until refused.
    wait_for(lambda: not _accepted(secure, creds), 10, "the revoked gateway refused")
    # The reload also rechecks connected clients: the revoked gateway's open session is dropped.
    wait_for(lambda: not live.client.is_connected(), 10, "the revoked gateway's connection dropped")
    assert secure.broker.process.pid == pid and secure.broker.running
    live.close()


def _accepted(secure: Secure, creds: Credentials) -> bool:
    client = Client(secure, creds)
    client.close()
    return client.outcome == "accepted"


def _reading(city: str, gateway: str, device: str) -> Reading:
    tags = {"city": city, "site": "s1", "gateway": gateway, "device": device}
    return Reading("air_quality", tags, {"pm25": 12.0, "pm10": 20.0}, time.time_ns() - 60 * 10**9)


@pytest.mark.integration
def test_ingest_refuses_readings_claiming_another_gateway_through_the_secure_broker(
    secure: Secure, influx: InfluxDB, database: str, city_id: str
) -> None:
    a = secure.registry.enrol_gateway(city_id, "gw-a", broker_pid=secure.broker.process.pid)
    wait_for(lambda: _accepted(secure, a), 10, "the enrolled gateway accepted")
    worker = IngestWorker(
        secure.broker.host,
        secure.broker.port,
        InfluxV1Writer(influx.url, database),
        worker_id=f"ingest-{city_id}",
        cities=city_id,
        session_expiry_s=0,
        credentials=(secure.services["ingest"].username, secure.services["ingest"].password),
        tls_ca_file=str(secure.certs.ca_cert),
    )
    worker.start()
    gateway_a = Client(secure, a)
    # On A's own topic, so the broker lets it through: one honest reading, one claiming gateway B.
    batch = payload.encode(
        "gw-a", 1, [_reading(city_id, "gw-a", "pm-own"), _reading(city_id, "gw-b", "pm-forged")]
    )
    try:
        wait_for(worker.connected.is_set, 10, "ingest connected")

        def honest_stored() -> bool:
            # The point's identity is fixed, so republishing (until the worker's subscription is
            # active) overwrites it rather than adding points.
            gateway_a.client.publish(topics.topic(city_id, "gw-a", "up"), batch, qos=1)
            return bool(influx.rows("SELECT pm25 FROM air_quality WHERE device = 'pm-own'", database))

        wait_for(honest_stored, 15, "the honest reading stored")
        rows = influx.rows("SELECT * FROM air_quality GROUP BY *", database)
        assert {r["gateway"] for r in rows} == {"gw-a"} and {r["device"] for r in rows} == {"pm-own"}
        rejects = influx.rows("SELECT reason FROM ingest_rejects GROUP BY *", database)
        assert rejects and all("gateway tag differs" in r["reason"] for r in rejects)
        assert {(r["gateway"], r["device"]) for r in rejects} == {("gw-a", "pm-forged")}
    finally:
        gateway_a.close()
        worker.stop(drain_timeout_s=2)


def test_credentials_never_print_the_password() -> None:
    creds = Credentials("gw.hue.gw01", "hunter2-secret")
    assert "hunter2" not in repr(creds) and "hunter2" not in f"{creds}"


@pytest.mark.integration
def test_the_edge_agent_delivers_through_tls_with_its_gateway_credentials(
    secure: Secure, influx: InfluxDB, database: str, city_id: str, tmp_path: Path
) -> None:
    gateway = secure.registry.enrol_gateway(city_id, "gw01", broker_pid=secure.broker.process.pid)
    wait_for(lambda: _accepted(secure, gateway), 10, "the enrolled gateway accepted")
    city = parse_city(ONE_SENSOR_CITY.format(city=city_id), families=registry.names())
    sim = registry.get("sds011").new_simulator(interval_s=0.05, seed=3)
    worker = IngestWorker(
        secure.broker.host,
        secure.broker.port,
        InfluxV1Writer(influx.url, database),
        worker_id=f"ingest-{city_id}",
        cities=city_id,
        session_expiry_s=0,
        credentials=(secure.services["ingest"].username, secure.services["ingest"].password),
        tls_ca_file=str(secure.certs.ca_cert),
    )
    options = AgentOptions(
        secure.broker.host,
        secure.broker.port,
        state_dir=tmp_path / "edge",
        tls=TlsFiles(ca_file=str(secure.certs.ca_cert)),
        credentials=(gateway.username, gateway.password),
    )
    agent = EdgeAgent(city, "gw01", options, {"pm01": sim.port})
    try:
        worker.start()
        agent.start()
        wait_for(
            lambda: (
                worker.connected.is_set()
                and agent.uplink.connected.is_set()
                and agent.devices[0].status.connected
            ),
            15,
            "TLS connections and the open port",
        )
        sim.start()  # pyserial discards what waits in a port when it opens it: start after
        wait_for(
            lambda: len(influx.rows("SELECT pm25 FROM air_quality WHERE device = 'pm01'", database)) >= 5,
            20,
            "readings stored through the secure broker",
        )
    finally:
        sim.stop()
        agent.stop()
        worker.stop(drain_timeout_s=2)
