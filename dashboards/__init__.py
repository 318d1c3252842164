"""Grafana dashboards for the operations-center wall, built from a city config with Grafana's
foundation SDK, provisioned as files or through Grafana's HTTP API, and checked by running every
query against InfluxDB.

- ``dashboards.wall`` — ``build_all(config, locale)``: the eight dashboards; ``to_json``/``from_json``.
- ``dashboards.verify`` — expands queries as Grafana does and runs them against InfluxDB.
- ``dashboards.provisioning`` / ``dashboards.push`` — files, or Grafana's HTTP API.
- ``dashboards.cli`` — ``build_command`` and ``push_command`` (``ioc dashboards build|push``).
- ``dashboards.sample_data`` — readings of every measurement the wall shows, for checks and demos.

Nothing is imported here, so ``ioc`` starts without the Grafana libraries (a gateway has no use
for them).
"""
