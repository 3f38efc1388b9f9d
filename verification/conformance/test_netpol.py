"""NetworkPolicies equal the reachability intent exactly, and keep the segmentation hygiene."""

from typing import Any

import pytest

from verification.models.netpol import segmentation
from verification.paths import INTENT, MANIFESTS
from verification.verdicts.verdict import Verdict


@pytest.fixture(scope="module")
def platform(platform_objects: list[dict[str, Any]]) -> segmentation.Platform:
    return segmentation.Platform.load(MANIFESTS, INTENT, platform_objects)


def _fail_on(violations: list[str]) -> None:
    if violations:
        pytest.fail("\n".join(violations), pytrace=False)


def _fail_unless(verdict: Verdict) -> None:
    if not verdict.ok:
        pytest.fail(verdict.render(), pytrace=False)


def test_truth_table_equals_reachability_intent(platform: segmentation.Platform) -> None:
    _fail_unless(segmentation.reachability_verdict(platform))


def test_every_network_policy_selects_a_workload(platform: segmentation.Platform) -> None:
    _fail_on(segmentation.unselecting_policy_violations(platform.model.policies, platform.workloads))


def test_app_namespaces_default_deny_both_directions(platform: segmentation.Platform) -> None:
    _fail_on(segmentation.default_deny_violations(platform.model.policies))


def test_app_namespace_peers_pin_their_namespace(platform: segmentation.Platform) -> None:
    _fail_on(segmentation.unpinned_peer_violations(platform.model.policies))


def test_dns_egress_wherever_egress_is_isolated(platform: segmentation.Platform) -> None:
    _fail_on(segmentation.dns_egress_violations(platform.model, platform.workloads))


def test_no_flow_between_test_and_staging(platform: segmentation.Platform) -> None:
    # Stated on its own (the intent already implies it) so the failure names the promise broken.
    table = platform.model.truth_table(platform.workloads).as_table()
    leaks = [
        f"{src} -> {target}"
        for src, targets in table.items()
        for target, allowed in targets.items()
        if allowed and {src.split("/")[0], target.split("/")[0]} == {"test", "staging"}
    ]
    _fail_on(leaks)


def test_truth_table_with_boundary_workloads_equals_intent(platform: segmentation.Platform) -> None:
    # Synthetic pods on every selector and port boundary of the policies (netpol_boundaries).
    _fail_unless(platform.boundaries.verdict())


@pytest.mark.parametrize("side", ["Ingress", "Egress"])
def test_each_layer_alone_equals_intent(platform: segmentation.Platform, side: str) -> None:
    # One side evaluated with the other open: a widened rule the other side masks still shows.
    _fail_unless(platform.boundaries.verdict(side))


def test_no_workload_pair_the_cni_enforces_by_listing_order(platform: segmentation.Platform) -> None:
    """The CNI lets a pod gain another pod's named ports when both share one (name, protocol,
    number) and differ in the rest (the `avoided:` entries of the deviations file): on the
    platform that would open ports the model denies, and the live matrix would vary by run."""
    from verification.cluster import cni

    _fail_on([h for check in cni.AVOIDED.values() for h in check(platform.workloads, platform.workloads)])
