"""No dangling reference in the rendered platform (manifests + every chart render, per env x colour).

A universe per environment profile and active colour: the platform manifests plus every app's
render there. A problem is reported once with every
universe it occurs in.
"""

from typing import Any

import pytest

from verification.models.delivery import chart as bg
from verification.models.delivery.chart import WORKLOADS_INTENT
from verification.models.netpol import model as netpol
from verification.models.schema import references as refs


def cluster_layouts() -> list[dict[str, str]]:
    """Which environment profile fills each app namespace of one cluster: the environments
    themselves, and each profile (e2e) in place of the environment whose namespace it uses."""
    base = {bg.namespace_for(env): env for env in bg.environments() if bg.namespace_for(env) == env}
    layouts = [base]
    for env in bg.environments():
        if bg.namespace_for(env) != env:
            layouts.append({**base, bg.namespace_for(env): env})
    return layouts


@pytest.fixture(scope="module")
def universes(
    platform_objects: list[dict[str, Any]], chart_renders: dict[tuple[str, str, str], Any]
) -> dict[str, refs.Universe]:
    external = refs.load_external()
    out = {}
    for layout in cluster_layouts():
        for color in bg.COLORS:
            objects = [*platform_objects]
            for namespace, env in layout.items():
                for app in bg.apps(env):
                    objects += refs.with_namespace(
                        chart_renders[(app, env, color)].objects, namespace, f"helm template {app} ({env})"
                    )
            out["+".join(sorted(layout.values())) + f"/{color}"] = refs.Universe(objects, external)
    return out


@pytest.mark.parametrize("check", sorted(refs.CHECKS))
def test_references_resolve(universes: dict[str, refs.Universe], check: str) -> None:
    found: dict[str, list[str]] = {}
    for label, universe in universes.items():
        for problem in refs.CHECKS[check](universe):
            found.setdefault(problem, []).append(label)
    assert not found, "\n".join(f"{p}  [{', '.join(where)}]" for p, where in sorted(found.items()))


def test_every_external_source_is_referenced(universes: dict[str, refs.Universe]) -> None:
    """A stale external entry would silently excuse a future dangling reference of the same name."""
    used = {key for u in universes.values() for key in refs.referenced(u)}
    stale = [
        f"{refs.EXTERNAL_FILE}: {e.kind} {e.namespace}/{e.name} is listed but nothing refers to it"
        for e in refs.load_external()
        if e.kind in ("Secret", "ConfigMap") and (e.kind, e.namespace, e.name) not in used
    ]
    assert not stale, "\n".join(stale)


def test_intent_workloads_are_real_pods(universes: dict[str, refs.Universe]) -> None:
    """The rows the NetworkPolicy truth table is computed over describe the rendered platform."""
    rows = netpol.load_workloads(WORKLOADS_INTENT)
    found: dict[str, list[str]] = {}
    for label, universe in universes.items():
        for problem in refs.check_intent_workloads(universe, rows):
            found.setdefault(problem, []).append(label)
    assert not found, "\n".join(f"{p}  [{', '.join(where)}]" for p, where in sorted(found.items()))
