"""The CNI seam: one module knows the CNI (install, readiness, known deviations); nothing else does."""

import re
from pathlib import Path
from typing import Any

import pytest

from verification.cluster import cni, node_image
from verification.errors import UserError
from verification.models.netpol import generated as gen
from verification.models.netpol.model import Port, Workload
from verification.paths import REPO_ROOT
from verification.verdicts.netpol import load_avoided, load_classes, load_deviations
from verification.versions import versions
from verification.yamlio import load_file

# --------------------------------------------------------------------------- the seam itself


def test_only_the_cni_module_names_the_cni() -> None:
    """A second CNI must touch cni.py and its data only: no other module of the package names it."""
    pattern = re.compile(re.escape(cni.NAME).replace("\\-", "[-_ ]?"), re.IGNORECASE)
    package = REPO_ROOT / "verification"
    naming = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in package.rglob("*.py")
        if path != package / "cluster" / "cni.py" and pattern.search(path.read_text())
    )
    assert naming == []


def test_the_cni_is_a_pinned_cluster_component() -> None:
    pin = versions()["cluster_components"][cni.NAME]
    assert {"module", "version", "image"} <= set(pin)
    assert (node_image.NODE_IMAGES_DIR / cni.NODE_IMAGE_DOCKERFILE).is_file()


# --------------------------------------------------------------------------- install


def test_manifest_runs_the_pinned_image_in_every_container() -> None:
    image = node_image.pinned_image(cni.NAME)
    ds = cni.daemonset(cni.manifest(image))
    spec = ds["spec"]["template"]["spec"]
    assert {c["image"] for c in [*spec.get("initContainers", []), *spec["containers"]]} == {image}
    assert "{image}" not in cni.manifest(image)
    assert "--run-firewall=true" in spec["containers"][0]["args"]  # it is the NetworkPolicy controller


def test_readiness_asks_for_the_pods_the_daemonset_selects() -> None:
    ds = cni.daemonset()
    selector = ds["spec"]["selector"]["matchLabels"]
    assert selector.items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    assert ds["metadata"]["namespace"] == "kube-system"


# --------------------------------------------------------------------------- readiness


def _ds(desired: int, ready: int, updated: int, observed: int = 2, generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"name": "cni", "generation": generation},
        "status": {
            "desiredNumberScheduled": desired,
            "numberReady": ready,
            "updatedNumberScheduled": updated,
            "observedGeneration": observed,
        },
    }


def _pod(name: str, ready: bool, *containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": f"node-of-{name}"},
        "status": {
            "phase": "Running" if ready else "Pending",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "initContainerStatuses": list(init),
            "containerStatuses": list(containers),
        },
    }


RUNNING = {"name": "router", "state": {"running": {}}}
CRASHING = {"name": "router", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
INIT_DONE = {"name": "install-cni", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
INIT_FAILED = {"name": "install-cni", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}


def test_every_node_ready_and_up_to_date_is_ready() -> None:
    pods = [_pod("a", True, RUNNING, init=(INIT_DONE,)), _pod("b", True, RUNNING, init=(INIT_DONE,))]
    assert cni.readiness(_ds(2, 2, 2), pods) == (True, "2 of 2 pods ready, 2 up to date")


@pytest.mark.parametrize(
    ("ds", "pods", "seen"),
    [
        (
            _ds(2, 1, 2),
            [_pod("a", True, RUNNING), _pod("b", False, CRASHING)],
            "1 of 2 pods ready, 2 up to date (b on node-of-b: router waiting: CrashLoopBackOff)",
        ),
        (
            _ds(1, 0, 1),
            [_pod("a", False, init=(INIT_FAILED,))],
            "0 of 1 pods ready, 1 up to date (a on node-of-a: install-cni terminated: Error)",
        ),
        (_ds(2, 2, 1), [_pod("a", True, RUNNING), _pod("b", True, RUNNING)], "2 of 2 pods ready, 1 up to date"),
        (
            _ds(2, 2, 2, observed=1),
            [_pod("a", True, RUNNING), _pod("b", True, RUNNING)],
            "2 of 2 pods ready, 2 up to date, controller has not seen the latest spec",
        ),
        (_ds(0, 0, 0), [], "0 of 0 pods ready, 0 up to date"),
        (
            {"metadata": {"generation": 1}},
            [],
            "0 of 0 pods ready, 0 up to date, controller has not seen the latest spec",
        ),
    ],
    ids=["crash-loop", "init-failed", "rolling-update", "spec-not-observed", "no-node-scheduled", "no-status-yet"],
)
def test_not_ready_says_which_pod_and_why(ds: dict, pods: list[dict], seen: str) -> None:
    assert cni.readiness(ds, pods) == (False, seen)


# --------------------------------------------------------------------------- known deviations


def test_deviations_file_lives_with_the_kind_cluster() -> None:
    assert cni.DEVIATIONS_FILE.parent == cni.MANIFEST.parent == REPO_ROOT / "platform" / "kind"


def test_every_class_of_the_file_has_a_predicate_and_every_predicate_a_class() -> None:
    assert load_classes() == [*cni.CLASSES, *cni.REJECTING]


def test_every_deviation_names_the_pinned_cni_version() -> None:
    """Bumping the CNI makes every deviation a claim to re-establish: the file must be revisited."""
    implementation = f"{cni.NAME} {versions()['cluster_components'][cni.NAME]['version']}"
    data = load_file(cni.DEVIATIONS_FILE)
    assert {d.implementation for d in load_deviations()} == {implementation}
    assert {c["implementation"] for c in data["classes"]} == {implementation}
    assert {c["implementation"] for c in data["avoided"]} == {implementation}


def test_a_class_without_a_predicate_is_refused_naming_the_cni_module(tmp_path: Path) -> None:
    path = tmp_path / "deviations.yaml"
    path.write_text(
        "deviations: []\nclasses:\n  - {id: nope, implementation: i, model: denied, observed: allowed, "
        "reason: r, evidence: e}\n"
    )
    with pytest.raises(UserError, match=r"classes\[0\]: no predicate 'nope' in verification\.cluster\.cni \(known: "):
        load_classes(path)


def test_every_avoided_behaviour_of_the_file_has_a_check_and_every_check_an_entry(tmp_path: Path) -> None:
    assert load_avoided() == list(cni.AVOIDED)
    path = tmp_path / "deviations.yaml"
    path.write_text("deviations: []\navoided:\n  - {id: nope, implementation: i, reason: r, evidence: e}\n")
    with pytest.raises(UserError, match=r"avoided\[0\]: no check 'nope' in verification\.cluster\.cni"):
        load_avoided(path)


ALIASING = cni.AVOIDED["kube-router-named-port-address-aliasing"]
A = Workload("x", "a", {}, (Port(80, "TCP", "http"), Port(81, "TCP", "metrics"), Port(80, "UDP", "udp-80")))


def test_aliasing_names_the_pod_that_would_gain_another_pods_named_port() -> None:
    """The universe of 2026-12-07 (a and b both named 80/UDP udp-80): 11 of 216 live cases differed."""
    b = Workload("x", "b", {}, (Port(80, "TCP"), Port(81, "TCP", "http"), Port(80, "UDP", "udp-80")))
    assert ALIASING([A, b], [A, b]) == [
        "x/a shares udp-80=80/UDP with x/b, which also names http=81/TCP",
        "x/b shares udp-80=80/UDP with x/a, which also names http=80/TCP, metrics=81/TCP",
    ]
    assert ALIASING([A, b], [b]) == [ALIASING([A, b], [A, b])[1]]  # only the watched pods' cells


def test_aliasing_spares_replicas_and_ports_the_pod_does_not_serve() -> None:
    replica = Workload("y", "a", {}, A.ports)
    # Shares http=80/TCP, but its other names are on numbers `A` does not serve: nothing to gain.
    controller = Workload("ingress", "c", {}, (Port(80, "TCP", "http"), Port(8443, "TCP", "webhook")))
    assert ALIASING([A, replica, controller], [A]) == []


def test_the_generated_universe_avoids_aliasing() -> None:
    pods = gen.workloads(3)
    assert ALIASING(pods, pods) == []
