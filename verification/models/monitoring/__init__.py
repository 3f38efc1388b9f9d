"""Prometheus rules, Alertmanager routes, Grafana dashboards and the metrics they read."""
