"""Hand-checked cases of the scrape-source model's relabelling and NetworkPolicy port logic."""

import pytest

from verification.models.monitoring import scrape_sources

KEEP = {
    "sourceLabels": ["__name__"],
    "regex": "container_cpu_usage_seconds_total|container_memory_.*",
    "action": "keep",
}
DROP = {"sourceLabels": ["__name__"], "regex": "container_memory_rss", "action": "drop"}


@pytest.mark.parametrize(
    ("rules", "name", "kept"),
    [
        ([], "container_cpu_usage_seconds_total", True),
        ([KEEP], "container_cpu_usage_seconds_total", True),
        ([KEEP], "container_memory_working_set_bytes", True),
        ([KEEP], "container_network_receive_bytes_total", False),
        ([KEEP], "xcontainer_cpu_usage_seconds_total", False),  # Prometheus anchors the regex
        ([KEEP, DROP], "container_memory_rss", False),
        ([{**KEEP, "action": "Keep"}], "container_fs_reads_total", False),  # CamelCase actions too
        ([{"sourceLabels": ["namespace"], "regex": "x", "action": "keep"}], "container_fs_reads_total", True),
    ],
)
def test_keeps(rules: list[dict], name: str, kept: bool) -> None:
    assert scrape_sources._keeps(rules, name) is kept


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [
        ({}, True),
        ({"ports": [{"protocol": "TCP", "port": 10250}]}, True),
        ({"ports": [{"port": 10250}]}, True),  # TCP is the default
        ({"ports": [{"protocol": "UDP", "port": 10250}]}, False),
        ({"ports": [{"protocol": "TCP", "port": 10000, "endPort": 11000}]}, True),
        ({"ports": [{"protocol": "TCP", "port": "https"}]}, False),  # named ports name pod ports only
        ({"ports": [{"protocol": "TCP", "port": 443}]}, False),
    ],
)
def test_allows_port(rule: dict, allowed: bool) -> None:
    assert scrape_sources._allows_port(rule, 10250) is allowed
