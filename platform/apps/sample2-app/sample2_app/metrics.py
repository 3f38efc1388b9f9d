"""The contract's metrics, in a registry of our own (served on the http and the metrics port)."""

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

# Same buckets in both apps, so dashboards and alert rules treat them alike.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LABELS = ("method", "route", "status")

disable_created_metrics()  # *_created series only add cardinality
registry = CollectorRegistry()
ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
GCCollector(registry=registry)

requests_total = Counter("http_requests_total", "HTTP requests served.", LABELS, registry=registry)
request_duration = Histogram(
    "http_request_duration_seconds", "HTTP request duration in seconds.", LABELS, buckets=BUCKETS, registry=registry
)
app_info = Gauge("app_info", "Version and colour of this process (always 1).", ("version", "color"), registry=registry)
