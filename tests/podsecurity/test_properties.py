"""Properties of the Pod Security model over generated pod specs (every field a check reads)."""

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from verification.models.podsecurity import check_pod, violations
from verification.models.podsecurity.generated import pod_specs

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def admitted(spec: dict[str, Any], level: str, version: str = "latest") -> bool:
    return not violations(spec, level, version)


@SETTINGS
@given(pod_specs(), st.sampled_from(["v1.0", "v1.19", "v1.23", "v1.25", "latest"]))
def test_levels_nest(spec: dict[str, Any], version: str) -> None:
    """Whatever restricted admits, baseline admits; privileged admits everything."""
    assert admitted(spec, "privileged", version)
    if admitted(spec, "restricted", version):
        assert admitted(spec, "baseline", version), violations(spec, "baseline", version)


@SETTINGS
@given(pod_specs())
def test_explicit_pod_level_run_as_non_root_false_is_always_rejected(spec: dict[str, Any]) -> None:
    """The old model's false pass, generalised: no container value rescues a pod-level false."""
    spec = copy.deepcopy(spec)
    spec.setdefault("securityContext", {})["runAsNonRoot"] = False
    found = dict(check_pod(spec, "restricted"))
    assert found["runAsNonRoot"].detail.startswith("pod ")


@SETTINGS
@given(pod_specs())
def test_container_kind_does_not_change_the_verdict(spec: dict[str, Any]) -> None:
    """Init, regular and ephemeral containers are checked alike (only the names in the text move)."""
    moved = copy.deepcopy(spec)
    moved["ephemeralContainers"] = moved.pop("initContainers", [])
    for level in ("baseline", "restricted"):
        ids = [cid for cid, _ in check_pod(spec, level)]
        moved_ids = [cid for cid, _ in check_pod(moved, level)]
        if not moved.get("hostNetwork"):  # hostNetwork defaults hostPorts for init, not ephemeral, containers
            assert ids == moved_ids


@SETTINGS
@given(pod_specs())
def test_pod_level_default_equals_the_same_value_on_every_container(spec: dict[str, Any]) -> None:
    """runAsNonRoot: true and seccompProfile RuntimeDefault at pod level cover exactly the containers
    that leave them unset: pushing them down onto those containers keeps the verdict."""
    pod_sc = spec.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True or pod_sc.get("seccompProfile") != {"type": "RuntimeDefault"}:
        return
    pushed = copy.deepcopy(spec)
    del pushed["securityContext"]["runAsNonRoot"], pushed["securityContext"]["seccompProfile"]
    for kind in ("initContainers", "containers"):
        for c in pushed.get(kind) or []:
            sc = c.setdefault("securityContext", {})
            sc.setdefault("runAsNonRoot", True)
            sc.setdefault("seccompProfile", {"type": "RuntimeDefault"})
    assert admitted(spec, "restricted") == admitted(pushed, "restricted")
