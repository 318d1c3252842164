"""Alert rules for the operations center: YAML rules in ``configs/alerts/`` evaluated as InfluxQL
against InfluxDB, with states (firing, acknowledged, resolved), hysteresis, ``for`` and
de-duplication, published to the ``alerts`` measurement, MQTT, Grafana annotations and a webhook."""

from cloud.alerts.engine import evaluate
from cloud.alerts.loader import check_rules, load_rules, parse_rules
from cloud.alerts.model import Rule, Title
from cloud.alerts.notify import GrafanaTarget
from cloud.alerts.service import AlertService
from cloud.alerts.state import Instance, Transition, alert_key
from cloud.alerts.store import AlertStore

__all__ = [
    "AlertService",
    "AlertStore",
    "GrafanaTarget",
    "Instance",
    "Rule",
    "Title",
    "Transition",
    "alert_key",
    "check_rules",
    "evaluate",
    "load_rules",
    "parse_rules",
]
