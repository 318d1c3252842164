"""Grafana dashboards built from the deployment config (the display-wall issue fills this in)."""
