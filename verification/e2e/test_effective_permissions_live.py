"""Effective permissions live: what the deployers and ArgoCD's manager could reach through the
workloads they create is refused at admission, exactly as the model predicts.

For each identity (test's and staging's ci-deployer and argocd-manager, impersonated), a catalog
of vectors (verification/models/rbac/effective.py `workload_vectors`: every pod spec field that
references a Secret, a ServiceAccount or a token) is applied to each app's chart render (the
Deployment the apps really deploy with), for every pod-producing kind, and sent as server-side
dry runs (ValidatingAdmissionPolicies run on dry runs; nothing is stored). The whole product is
tried, not a sample. For every request:

- the model (cel_admission over the repository's policies) predicts admitted or refused and the
  first denial's message; the API server must answer the same, message included;
- every vector is refused by the policy workload-identity, and each app's chart render is admitted.

Kinds the identities may not create by RBAC (all but Deployments) get a temporary Role for the
test, so the policy is proven for every kind a later grant could open. With the binding, then the
policy, deleted (restored in a finally, and awaited) the same catalog must be admitted: the
policy is what refuses it. Counts go to <artifacts>/effective-permissions.json.
"""

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from verification.e2e.stack import Stack
from verification.models.admission.cel import AdmissionRequest, Decision, PolicySet, pod_specs, server_defaults
from verification.models.delivery import chart as bg
from verification.models.rbac.authorizer import Authorizer
from verification.models.rbac.effective import POD_PRODUCERS, Platform, workload_object, workload_vectors
from verification.models.rbac.intent import load_intent
from verification.paths import MANIFESTS
from verification.probes.admission import AdmissionClient, Outcome
from verification.verdicts.verdict import Row, Verdict
from verification.wait import wait_for
from verification.yamlio import iter_kind, load_manifests, strip_source

POLICY_FILE = MANIFESTS / "rbac" / "workload-admission.yaml"
POLICY_NAME = "workload-identity"
IDENTITIES = tuple(
    f"system:serviceaccount:{namespace}:{name}"
    for name in ("ci-deployer", "argocd-manager")
    for namespace in ("test", "staging")
)
TEMPORARY_GRANT = "effective-permissions-e2e"  # Role and RoleBinding names, removed afterwards
ROWS = {row[3]: row for row in POD_PRODUCERS}


@dataclass(frozen=True)
class Case:
    user: str
    namespace: str
    kind: str
    label: str  # "vector NAME (FIELD)" or "chart render APP"
    obj: dict[str, Any]
    old: dict[str, Any] | None = None  # UPDATE when set
    vector: bool = True

    def describe(self) -> str:
        operation = "UPDATE" if self.old else "CREATE"
        return f"{self.user} {operation} {self.kind} {self.namespace}/{self.obj['metadata']['name']}: {self.label}"


@pytest.fixture(scope="module")
def platform() -> Platform:
    objects = load_manifests([MANIFESTS])
    authorizer = Authorizer.from_objects(objects)
    return Platform(objects, authorizer, load_intent(authorizer.catalog))


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, app) -> the chart's blue Deployment for the environment of that namespace."""
    found = {}
    for env in ("test", "staging"):
        for app in bg.apps(env):
            deployment = bg.render(app, env, "blue").of_kind("Deployment")[0]
            found[(bg.namespace_for(env), app)] = deployment
    return found


@pytest.fixture(scope="module")
def admission(stack: Stack) -> AdmissionClient:
    return AdmissionClient(stack.kubeconfig)


def _name(kind: str, index: int) -> str:
    return f"ep-{kind.lower()}-{index}"


def catalog(platform: Platform, renders: dict[tuple[str, str], dict[str, Any]], kinds: tuple[str, ...]) -> list[Case]:
    cases = []
    for user in IDENTITIES:
        namespace = user.split(":")[2]
        apps = sorted(app for ns, app in renders if ns == namespace)
        for kind in kinds:
            index = 0
            for app in apps:  # every app's chart render is admitted, for every kind
                template = copy.deepcopy(renders[(namespace, app)]["spec"]["template"])
                obj = workload_object(kind, namespace, _name(kind, index), template)
                cases.append(Case(user, namespace, kind, f"chart render {app}", obj, vector=False))
                index += 1
            base = renders[(namespace, apps[0])]
            account = pod_specs(base)[0]["serviceAccountName"]
            for vector in workload_vectors(account, platform.accounts(namespace)):
                obj = workload_object(kind, namespace, _name(kind, index), copy.deepcopy(base["spec"]["template"]))
                vector.apply(pod_specs(obj)[0])
                label = f"vector {vector.name} ({vector.field}{', ' + vector.reaches if ':' in vector.reaches else ''})"
                cases.append(Case(user, namespace, kind, label, obj))
                index += 1
    return cases


def predict(policies: PolicySet, case: Case, platform: Platform) -> Decision:
    group, version, resource, kind = ROWS[case.kind]
    meta = case.obj["metadata"]
    request = AdmissionRequest(
        "UPDATE" if case.old else "CREATE",
        group,
        version,
        resource,
        kind,
        case.namespace,
        meta["name"],
        case.user,
        (),
        server_defaults(copy.deepcopy(case.obj)),
        case.old,
        namespace_labels=platform.namespace_labels(case.namespace),
    )
    return policies.decide(request)


@dataclass(frozen=True)
class Result:
    case: Case
    predicted: Decision
    outcome: Outcome

    def problem(self, *, enforced: bool) -> str | None:
        """Why this result breaks the contract (None: it holds)."""
        expected_message = self.predicted.denials[0].api_message() if self.predicted.denials else ""
        live_refused_by_policy = not self.outcome.admitted and self.outcome.by_policy
        if live_refused_by_policy != (not self.predicted.allowed):
            return f"model {'refuses' if not self.predicted.allowed else 'admits'}, live {self.outcome.describe()}"
        if live_refused_by_policy and expected_message not in self.outcome.message:
            return f"refused with another message: live {self.outcome.message!r}, model {expected_message!r}"
        if not self.outcome.admitted and not self.outcome.by_policy and (enforced and self.case.vector):
            return f"refused, but not by a ValidatingAdmissionPolicy: {self.outcome.message}"
        if enforced and self.case.vector and self.predicted.allowed:
            return "a vector the policy should refuse is admitted (model and live agree)"
        if not self.case.vector and not self.outcome.admitted and self.outcome.by_policy:
            return f"the chart render is refused: {self.outcome.message}"
        if not enforced and self.case.vector and not self.outcome.admitted and self.outcome.by_policy:
            return "still refused by a policy with the policy or binding removed"
        return None

    def row(self, *, enforced: bool) -> Row:
        """Expected the model's decision, observed the API server's; the cause is the broken promise."""
        denial = self.predicted.denials[0].api_message() if self.predicted.denials else ""
        problem = self.problem(enforced=enforced)
        expected = f"refused: {denial}" if denial else "admitted"
        return Row(self.case.describe(), expected, self.outcome.describe(), problem or "", problem is None)


def run(admission: AdmissionClient, policies: PolicySet, platform: Platform, cases: list[Case]) -> list[Result]:
    return [
        Result(case, predict(policies, case, platform), admission.dry_run(case.obj, case.user, update=bool(case.old)))
        for case in cases
    ]


def _record(artifacts: Path, name: str, results: list[Result], *, enforced: bool) -> tuple[dict[str, Any], Verdict]:
    rows = [r.row(enforced=enforced) for r in results]
    summary = {
        "tried": len(results),
        "vectors": sum(r.case.vector for r in results),
        "vectors refused live": sum(r.case.vector and not r.outcome.admitted for r in results),
        "vectors refused by the policy live": sum(r.case.vector and r.outcome.by_policy for r in results),
        "chart renders admitted live": sum(not r.case.vector and r.outcome.admitted for r in results),
        "chart renders": sum(not r.case.vector for r in results),
        "model agrees": sum(not row.differs for row in rows),
        "problems": [f"{row.subject}: {row.cause}" for row in rows if row.differs],
    }
    path = artifacts / "effective-permissions.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded[name] = summary
    path.write_text(json.dumps(recorded, indent=2) + "\n")
    return summary, Verdict(f"admission against the model and the contract, {name}", rows=rows)


# --- the policy enforces, as modelled -------------------------------------------------------------


def test_policy_is_deployed_with_deny(stack: Stack) -> None:
    binding = json.loads(stack.kubectl("get", "validatingadmissionpolicybinding", POLICY_NAME, "-o", "json").stdout)
    assert binding["spec"]["policyName"] == POLICY_NAME and binding["spec"]["validationActions"] == ["Deny"]
    stack.kubectl("get", "validatingadmissionpolicy", POLICY_NAME)


def test_deployments_of_every_identity_are_refused_as_modelled(
    stack: Stack,
    admission: AdmissionClient,
    platform: Platform,
    renders: dict[tuple[str, str], dict[str, Any]],
    artifacts: Path,
) -> None:
    """The kind the identities may create by RBAC: CREATE for all four, and UPDATE of the live
    Deployments of test (the stack deploys the apps there)."""
    cases = catalog(platform, renders, ("Deployment",))
    for app in sorted({app for ns, app in renders if ns == "test"}):
        live = admission.get(f"/apis/apps/v1/namespaces/test/deployments/{app}-blue")
        for key in ("status",):
            live.pop(key, None)
        live["metadata"].pop("managedFields", None)
        for user in (u for u in IDENTITIES if ":test:" in u):
            cases.append(Case(user, "test", "Deployment", f"update of live {app}-blue, unchanged", live, live, False))
            account = pod_specs(live)[0]["serviceAccountName"]
            for vector in workload_vectors(account, platform.accounts("test")):
                changed = copy.deepcopy(live)
                vector.apply(pod_specs(changed)[0])
                cases.append(Case(user, "test", "Deployment", f"update vector {vector.name}", changed, live))
    summary, verdict = _record(
        artifacts, "deployments", run(admission, platform.policies, platform, cases), enforced=True
    )
    assert summary["vectors refused by the policy live"] == summary["vectors"], summary
    assert verdict.ok, verdict.render()


@pytest.fixture
def every_kind_granted(stack: Stack) -> Iterator[None]:
    """A temporary Role in test and staging lets the four identities create every pod-producing kind
    (RBAC refuses before admission otherwise); deleted afterwards."""
    objects = []
    for namespace in ("test", "staging"):
        meta = {"name": TEMPORARY_GRANT, "namespace": namespace, "labels": {"platform.io/e2e": "temporary"}}
        rules = [
            {"apiGroups": [group], "resources": [resource], "verbs": ["create"]}
            for group, _, resource, _ in POD_PRODUCERS
        ]
        subjects = [
            {"kind": "ServiceAccount", "name": u.split(":")[3], "namespace": namespace}
            for u in IDENTITIES
            if u.split(":")[2] == namespace
        ]
        objects += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": TEMPORARY_GRANT},
                "subjects": subjects,
            },
        ]
    stack.kubectl(
        "apply", "--server-side", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    )
    try:
        yield
    finally:
        for namespace in ("test", "staging"):
            stack.kubectl(
                "delete", "-n", namespace, "role,rolebinding", TEMPORARY_GRANT, "--ignore-not-found", check=False
            )


def test_every_pod_producing_kind_is_refused_as_modelled(
    stack: Stack,
    admission: AdmissionClient,
    platform: Platform,
    renders: dict[tuple[str, str], dict[str, Any]],
    artifacts: Path,
    every_kind_granted: None,
) -> None:
    cases = catalog(platform, renders, tuple(k for k in ROWS if k != "Deployment"))
    results = wait_for(
        lambda: run(admission, platform.policies, platform, cases),
        what="the temporary Role to let the identities create every pod-producing kind (RBAC caches)",
        timeout=60,
        interval=2,
        until=lambda rs: not any("cannot create resource" in r.outcome.message for r in rs),
        describe=lambda rs: next((r.outcome.message for r in rs if "cannot create" in r.outcome.message), "-"),
    )
    summary, verdict = _record(artifacts, "every pod-producing kind", results, enforced=True)
    assert summary["vectors refused by the policy live"] == summary["vectors"], summary
    assert verdict.ok, verdict.render()


# --- without the binding or the policy, the same catalog is admitted ------------------------------


def _without(kind: str) -> list[dict[str, Any]]:
    return [o for o in load_manifests([MANIFESTS]) if not (o["kind"] == kind and o["metadata"]["name"] == POLICY_NAME)]


@pytest.mark.parametrize("removed", ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"])
def test_catalog_is_admitted_without_the_policy(
    stack: Stack,
    admission: AdmissionClient,
    platform: Platform,
    renders: dict[tuple[str, str], dict[str, Any]],
    artifacts: Path,
    removed: str,
) -> None:
    cases = catalog(platform, renders, ("Deployment",))
    canary = next(c for c in cases if c.vector)
    policies = PolicySet.from_objects(_without(removed))
    original = next(o for o in iter_kind(load_manifests([POLICY_FILE]), removed))
    stack.kubectl("delete", removed.lower(), POLICY_NAME)
    try:
        wait_for(
            lambda: admission.dry_run(canary.obj, canary.user),
            what=f"the API server to stop enforcing {POLICY_NAME} once its {removed} is deleted",
            timeout=60,
            interval=1,
            until=lambda outcome: outcome.admitted,
            describe=Outcome.describe,
        )
        results = run(admission, policies, platform, cases)
        summary, verdict = _record(artifacts, f"without {removed}", results, enforced=False)
    finally:
        stack.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(strip_source(original)))
        wait_for(
            lambda: admission.dry_run(canary.obj, canary.user),
            what=f"{POLICY_NAME} to be enforced again after restoring its {removed}",
            timeout=120,
            interval=1,
            until=lambda outcome: outcome.by_policy,
            describe=Outcome.describe,
        )
    assert summary["vectors refused live"] == 0, summary
    assert verdict.ok, verdict.render()
