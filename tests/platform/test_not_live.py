"""The e2e summary names every component whose image has no offline source, with its manifests."""

from typing import Any

from verification.e2e import not_live
from verification.paths import MANIFESTS


def test_unbuilt_images_are_listed_with_their_manifests(monkeypatch: Any) -> None:
    monkeypatch.setattr(not_live.stack_images, "unbuilt", lambda: ["grafana"])
    monkeypatch.setattr(not_live, "versions", lambda: {"images": {"grafana": "docker.io/grafana/grafana:12.0.2"}})
    lines = not_live.summary()
    assert lines[0].startswith("NOT PROVEN LIVE: no offline source")
    assert (
        lines[1]
        == "  grafana (docker.io/grafana/grafana:12.0.2): " + "platform/manifests/monitoring/grafana-deployment.yaml"
    )
    runnable = [p.name for p in not_live.runnable(MANIFESTS / "monitoring")]
    assert "grafana-deployment.yaml" not in runnable and "prometheus.yaml" in runnable


def test_nothing_to_say_when_everything_has_a_source(monkeypatch: Any) -> None:
    monkeypatch.setattr(not_live.stack_images, "unbuilt", lambda: [])
    assert not_live.summary() == []
