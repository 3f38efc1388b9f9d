"""Every metric a dashboard panel or alert reads is scraped by some source of the platform's
Prometheus: container_* needs the kubelet cAdvisor ScrapeConfig (selected, HTTPS, node discovery,
port 10250, token, the series kept, egress allowed), kube_* a selected kube-state-metrics
ServiceMonitor. Mistakes applied to a copy of the objects must fail naming the cause."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from verification.models.monitoring import metric_catalog, scrape_sources

Objects = list[dict[str, Any]]


def _one(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}"
    return found[0]


def test_every_metric_read_is_scraped(platform_objects: Objects) -> None:
    problems = scrape_sources.check(platform_objects)
    assert not problems, "metrics read by dashboards/alerts that Prometheus never scrapes:\n" + "\n".join(problems)


def test_known_gaps_are_still_gaps(platform_objects: Objects) -> None:
    problems = scrape_sources.check_known_gaps(platform_objects)
    assert not problems, "\n".join(problems)


def test_kubelet_scrape_is_selected_and_complete(platform_objects: Objects) -> None:
    needed = set(metric_catalog.KUBELET)
    good, problems = scrape_sources.kubelet_sources(platform_objects, needed)
    assert good, "no complete kubelet cAdvisor ScrapeConfig:\n" + "\n".join(problems)


# --- mutations -------------------------------------------------------------------------------


def _without_scrape_config(objects: Objects) -> None:
    objects.remove(_one(objects, "ScrapeConfig", "kubelet-cadvisor"))


def _without_selector(objects: Objects) -> None:
    del _one(objects, "Prometheus", "platform")["spec"]["scrapeConfigSelector"]


def _namespace_not_selected(objects: Objects) -> None:
    _one(objects, "Prometheus", "platform")["spec"]["scrapeConfigNamespaceSelector"] = {
        "matchLabels": {"kubernetes.io/metadata.name": "test"}
    }


def _http(objects: Objects) -> None:
    _one(objects, "ScrapeConfig", "kubelet-cadvisor")["spec"]["scheme"] = "HTTP"


def _drops_memory(objects: Objects) -> None:
    spec = _one(objects, "ScrapeConfig", "kubelet-cadvisor")["spec"]
    spec["metricRelabelings"] = [{"sourceLabels": ["__name__"], "regex": "container_cpu_.*", "action": "keep"}]


def _no_token(objects: Objects) -> None:
    for scrape_class in _one(objects, "Prometheus", "platform")["spec"]["scrapeClasses"]:
        scrape_class.pop("authorization", None)


def _undefined_class(objects: Objects) -> None:
    _one(objects, "Prometheus", "platform")["spec"]["scrapeClasses"] = []


def _no_kubelet_egress(objects: Objects) -> None:
    policy = _one(objects, "NetworkPolicy", "prometheus")
    for rule in policy["spec"]["egress"]:
        rule["ports"] = [p for p in rule.get("ports") or [] if p.get("port") != 10250]


def _no_address_relabel(objects: Objects) -> None:
    spec = _one(objects, "ScrapeConfig", "kubelet-cadvisor")["spec"]
    spec["relabelings"] = [r for r in spec["relabelings"] if r.get("targetLabel") != "__address__"]


def _no_kube_state_metrics_monitor(objects: Objects) -> None:
    objects.remove(_one(objects, "ServiceMonitor", "kube-state-metrics"))


MUTATIONS: dict[str, tuple[Callable[[Objects], None], str]] = {
    "ScrapeConfig removed": (_without_scrape_config, "no ScrapeConfig selected by the Prometheus resource scrapes"),
    "no scrapeConfigSelector": (_without_selector, "no ScrapeConfig selected by the Prometheus resource scrapes"),
    "namespace not selected": (_namespace_not_selected, "no ScrapeConfig selected by the Prometheus resource"),
    "plain HTTP": (_http, "scheme must be HTTPS"),
    "memory series dropped": (_drops_memory, "metricRelabelings drop container_memory_working_set_bytes"),
    "no token": (_no_token, "no bearer credentials"),
    "scrape class undefined": (_undefined_class, "scrapeClass 'kubelet' is not defined"),
    "egress 10250 removed": (_no_kubelet_egress, "allows TCP 10250 to node addresses"),
    "no __address__ relabelling": (_no_address_relabel, "no relabelling of __address__"),
    "kube-state-metrics unscraped": (_no_kube_state_metrics_monitor, "kube-state-metrics: no ServiceMonitor"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutation_is_caught(platform_objects: Objects, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    objects = copy.deepcopy(platform_objects)
    mutate(objects)
    problems = scrape_sources.check(objects)
    assert any(expected in p for p in problems), f"{name}: expected a problem containing {expected!r}, got {problems}"
    if name != "kube-state-metrics unscraped":
        assert any("panel 'CPU by namespace'" in p for p in problems), problems
