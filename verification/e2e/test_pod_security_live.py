"""Pod Security live: the API server admits exactly the pods the Pod Security model admits.

1. For every platform namespace, three pods (privileged, baseline-only, restricted) are dry-run;
   the live answer must equal the model (verification.models.podsecurity) at the namespace's
   enforced level and version, reason for reason.
2. Generated pod specs (tests' hypothesis strategy over every field a check reads, derandomized
   so every run sends the same specs) are dry-run in two throw-away namespaces enforcing
   restricted and baseline, in one batched kubectl call each; model == admission for every one,
   verdict and reasons, and a table of mismatches (spec fields, model, admission message) if not.
"""

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from verification.cluster.cluster import Cluster
from verification.e2e.stack import Stack
from verification.models.podsecurity import check_pod, namespace_policies
from verification.models.podsecurity.generated import compliant, ephemeral_containers, pod_specs
from verification.paths import MANIFESTS
from verification.probes.podsecurity_admission import Comparison, Observed, compare, dry_run_pods
from verification.verdicts.verdict import Verdict, table
from verification.versions import versions
from verification.yamlio import load_manifests

POLICIES = namespace_policies(load_manifests([MANIFESTS / "namespaces"]))
EXAMPLES = 200
EPHEMERAL_EXAMPLES = 40  # each is one kubectl call per base pod
MIN_VALID = 0.9  # at least this share of generated specs must pass API validation to reach admission


def _image() -> str:
    return str(versions()["images"]["netpol-probe"])


def _container(security: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "probe",
        "image": _image(),
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}},
        "securityContext": security,
    }


RESTRICTED = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [_container({"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})],
}
BASELINE = {"containers": [_container({})]}  # runs as the image's user, default capabilities
PRIVILEGED = {"containers": [_container({"privileged": True})]}
PODS: dict[str, dict[str, Any]] = {"privileged": PRIVILEGED, "baseline": BASELINE, "restricted": RESTRICTED}


def _check(rows: list[Comparison], what: str) -> None:
    verdict = Verdict(f"Pod Security admission against the model, {what}", rows=[r.row() for r in rows])
    print(f"\n{verdict.summary()} ({sum(r.verdict_agrees for r in rows)} verdicts agree)")
    assert verdict.ok, verdict.render()


@pytest.mark.parametrize("namespace", sorted(POLICIES))
def test_admission_equals_model(stack: Stack, namespace: str) -> None:
    policy = POLICIES[namespace]
    specs = {f"psa-{name}": spec for name, spec in PODS.items()}
    observed = dry_run_pods(stack.kubectl, namespace, specs)
    invalid = {n: o.message for n, o in observed.items() if o.outcome not in ("admitted", "forbidden")}
    assert not invalid, f"dry runs in {namespace} failed for another reason than Pod Security: {invalid}"
    rows = [
        Comparison(n, s, str(policy), [str(r) for _, r in found], [r.reason for _, r in found], observed[n])
        for n, s in specs.items()
        for found in [check_pod(s, policy.level, policy.version)]
    ]
    _check(rows, f"namespace {namespace} ({policy})")


@pytest.mark.parametrize("namespace", ["test", "staging"])
def test_privileged_rejected_restricted_admitted_in_app_namespaces(stack: Stack, namespace: str) -> None:
    observed = dry_run_pods(stack.kubectl, namespace, {"psa-privileged": PRIVILEGED, "psa-restricted": RESTRICTED})
    assert observed["psa-privileged"].outcome == "forbidden", observed["psa-privileged"]
    assert "privileged" in observed["psa-privileged"].reasons
    assert observed["psa-restricted"].outcome == "admitted", observed["psa-restricted"]


def generated_specs(count: int, strategy: Any = None) -> list[dict[str, Any]]:
    """`count` pod specs (or what `strategy` draws) drawn the same way on every run (derandomized),
    duplicates dropped."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy if strategy is not None else pod_specs(image=_image()))
    def draw(spec: dict[str, Any]) -> None:
        drawn.append(spec)

    draw()
    unique = {json.dumps(spec, sort_keys=True): spec for spec in drawn}
    return list(unique.values())


def boundary_cases() -> dict[str, dict[str, Any]]:
    """Hand-made specs on the boundaries where the previous model and admission disagreed."""
    image = _image()

    def case(placement: str = "pod", init: int = 0, **pod_fields: Any) -> dict[str, Any]:
        spec = compliant(placement, init, 1, image)
        spec.update(pod_fields)
        return spec

    cases = {
        "pod-runasnonroot-false-containers-true": case("containers", 1),
        "windows-without-linux-fields": case(os={"name": "windows"}),
        "sysctl-tcp-rmem": case(),
        "selinux-container-engine-t": case(),
        "drop-all-lower-case": case(),
        "pod-apparmor-unconfined": case(),
        "pod-seccomp-unconfined-containers-runtime-default": case("containers"),
        "host-network-defaults-host-port": case(hostNetwork=True),
        "container-runasuser-0": case(),
    }
    cases["pod-runasnonroot-false-containers-true"]["securityContext"] = {"runAsNonRoot": False}
    windows = cases["windows-without-linux-fields"]
    windows["securityContext"] = {"runAsNonRoot": True}
    windows["containers"][0].pop("securityContext")
    cases["sysctl-tcp-rmem"]["securityContext"]["sysctls"] = [
        {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}
    ]
    app = {name: spec["containers"][0] for name, spec in cases.items()}
    app["selinux-container-engine-t"]["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}
    app["drop-all-lower-case"]["securityContext"]["capabilities"] = {"drop": ["all"]}
    cases["pod-apparmor-unconfined"]["securityContext"]["appArmorProfile"] = {"type": "Unconfined"}
    cases["pod-seccomp-unconfined-containers-runtime-default"]["securityContext"] = {
        "seccompProfile": {"type": "Unconfined"}
    }
    app["host-network-defaults-host-port"]["ports"] = [{"containerPort": 8080}]
    app["container-runasuser-0"]["securityContext"]["runAsUser"] = 0
    return cases


@pytest.fixture
def enforcing_namespaces(cluster: Cluster) -> Any:
    """Two throw-away namespaces enforcing restricted and baseline (latest); deleted afterwards."""
    suffix = uuid.uuid4().hex[:5]
    names = {level: f"psa-gen-{level}-{suffix}" for level in ("restricted", "baseline")}
    for level, name in names.items():
        labels = {"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": "latest"}
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        cluster.kubectl("create", "-f", "-", input=json.dumps(ns))
    try:
        yield names
    finally:
        for name in names.values():
            cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_generated_pod_specs_admission_equals_model(
    cluster: Cluster, enforcing_namespaces: dict[str, str], artifacts: Path
) -> None:
    specs = {f"psa-gen-{i:03d}": spec for i, spec in enumerate(generated_specs(EXAMPLES))}
    specs.update({f"psa-case-{name}": spec for name, spec in boundary_cases().items()})
    report: list[str] = []
    every: list[Comparison] = []
    for level, namespace in enforcing_namespaces.items():
        observed = dry_run_pods(cluster.kubectl, namespace, specs)
        invalid = {n: o for n, o in observed.items() if o.outcome not in ("admitted", "forbidden")}
        rows = compare(level, {n: s for n, s in specs.items() if n not in invalid}, observed)
        admitted = sum(r.observed.outcome == "admitted" for r in rows)
        exact = sum(r.reasons_agree and r.observed.message.endswith(", ".join(r.model)) for r in rows)
        report.append(
            f"{level}: {len(specs)} specs, {len(invalid)} refused by API validation, {len(rows)} reached admission "
            f"({admitted} admitted, {len(rows) - admitted} forbidden); model == admission: "
            f"{sum(r.verdict_agrees for r in rows)} verdicts, {sum(r.reasons_agree for r in rows)} verdicts and "
            f"reasons, {exact} word for word"
        )
        report += [f"  invalid {n}: {o.outcome}: {o.message}" for n, o in invalid.items()]
        every += rows
    # every spec with both answers, for a reviewer: the generated cases live
    (artifacts / "pod-security-generated.txt").write_text("\n".join(report) + "\n" + table([r.row() for r in every]))
    print("\n" + "\n".join(report))
    reached = {level: sum(r.level == level for r in every) for level in enforcing_namespaces}
    assert all(n >= MIN_VALID * len(specs) for n in reached.values()), "\n".join(report)
    verdict = Verdict("Pod Security admission against the model, generated specs", rows=[r.row() for r in every])
    assert verdict.ok, verdict.render()


def test_generated_ephemeral_containers_admission_equals_model(
    cluster: Cluster, enforcing_namespaces: dict[str, str]
) -> None:
    """Ephemeral containers reach admission only through the pods/ephemeralcontainers subresource of
    an existing pod: two restricted pods (settings at pod level, or on the container) that are never
    scheduled, and each generated ephemeral container added to each with a dry-run update."""
    namespace = enforcing_namespaces["restricted"]
    bases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for placement in ("pod", "containers"):
        name, spec = f"psa-eph-{placement}", compliant(placement, 0, 1, _image())
        spec["nodeSelector"] = {"pod-security-e2e": "never-scheduled"}
        pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}
        pod["spec"] = spec
        cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
        live = json.loads(cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json").stdout)
        bases[name] = (spec, live)
    rows = []
    for index, ephemeral in enumerate(generated_specs(EPHEMERAL_EXAMPLES, ephemeral_containers(image=_image()))):
        for name, (spec, live) in bases.items():
            uri = f"/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers?dryRun=All"
            for _attempt in range(3):
                pod = copy.deepcopy(live)
                pod["spec"]["ephemeralContainers"] = [ephemeral]
                proc = cluster.kubectl("replace", "--raw", uri, "-f", "-", input=json.dumps(pod), check=False)
                if "(Conflict)" not in proc.stderr:
                    break
                # The scheduler wrote the pod's status (Unschedulable) after the read: read it again.
                live = json.loads(cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json").stdout)
                bases[name] = (spec, live)
            if proc.returncode == 0:
                observed = Observed("admitted")
            else:
                outcome = "forbidden" if "violates PodSecurity" in proc.stderr else "invalid"
                observed = Observed(outcome, proc.stderr.strip())
            case = f"{name}+ephemeral-{index:02d}"
            rows += compare("restricted", {case: {**spec, "ephemeralContainers": [ephemeral]}}, {case: observed})
    invalid = [r.row() for r in rows if r.observed.outcome not in ("admitted", "forbidden")]
    assert not invalid, "ephemeral container updates failed for another reason than Pod Security:\n" + table(invalid)
    _check(rows, f"ephemeral containers in {namespace} (restricted:latest)")
