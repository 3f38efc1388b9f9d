"""Hand-checked cases of the effective-permission model (verification/models/rbac/effective.py) on
small platforms, with and without the platform's workload-identity admission policy."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification.cli import main
from verification.models.admission.cel import AdmissionRequest, PolicySet, pod_specs, server_defaults
from verification.models.rbac.authorizer import Authorizer, impersonated_groups
from verification.models.rbac.effective import (
    POD_PRODUCERS,
    Platform,
    allowed_pod_template,
    check_effective,
    effective_reach,
    workload_object,
    workload_vectors,
)
from verification.models.rbac.intent import Identity, load_intent
from verification.paths import MANIFESTS
from verification.yamlio import load_documents_from_text, load_manifests

DEPLOYER = "system:serviceaccount:test:ci-deployer"
POLICY_FILE = MANIFESTS / "rbac" / "workload-admission.yaml"
RBAC = """\
apiVersion: v1
kind: Namespace
metadata: {name: test}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci-deployer, namespace: test}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sample-app, namespace: test}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: vault-reader, namespace: test}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: test}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [create, update, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: ci-deployer, namespace: test}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: vault}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: vault}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: vault-reader, namespace: test}]
"""
INTENT = """\
admins: {groups: [system:masters]}
prohibited:
  - {name: secrets read, verbs: [get, list, watch], resources: [secrets]}
  - {name: exec into pods, verbs: [create, get], resources: [pods/exec]}
  - {name: mint service account tokens, verbs: [create], resources: [serviceaccounts/token]}
serviceAccounts:
  runtime:
    - {namespace: test, name: sample-app, token: false, secrets: []}
identities:
  - user: system:serviceaccount:test:ci-deployer
"""


def _platform(tmp_path: Path, extra: str = "", policy: bool = False) -> Platform:
    objects = load_documents_from_text(RBAC + extra, "rbac.yaml")
    if policy:
        # the platform's own policy: its runtime accounts include test/sample-app
        objects += load_manifests([POLICY_FILE])
    intent_file = tmp_path / "permissions.yaml"
    intent_file.write_text(INTENT)
    authorizer = Authorizer.from_objects(objects)
    return Platform(objects, authorizer, load_intent(authorizer.catalog, intent_file))


def _open(platform: Platform, user: str = DEPLOYER) -> set[tuple[str, str]]:
    identity = Identity(user, impersonated_groups(user))
    reaches = effective_reach(platform, identity, ["", "test", "vault"])
    return {(r.namespace, r.what) for r in reaches if r.open}


def test_deployment_creation_reaches_secrets_and_every_token_and_what_those_tokens_reach(tmp_path: Path) -> None:
    reached = _open(_platform(tmp_path))
    assert ("test", "Secrets") in reached
    for account in ("ci-deployer", "sample-app", "vault-reader", "default"):
        assert ("test", f"token of ServiceAccount test/{account}") in reached
    # through vault-reader's token: its RBAC grant in another namespace
    assert ("vault", "Secrets") in reached


def test_closure_names_the_whole_path(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    identity = Identity(DEPLOYER, impersonated_groups(DEPLOYER))
    vault = [r for r in effective_reach(platform, identity, ["test", "vault"]) if r.namespace == "vault"]
    assert vault and all("=> as system:serviceaccount:test:vault-reader =>" in r.path for r in vault)
    assert all(r.equivalent.user == DEPLOYER for r in vault)  # judged against the deployer's intent


def test_policy_closes_every_workload_vector(tmp_path: Path) -> None:
    platform = _platform(tmp_path, policy=True)
    assert {w for _, w in _open(platform)} <= {"ConfigMaps", "PersistentVolumeClaims"}
    identity = Identity(DEPLOYER, impersonated_groups(DEPLOYER))
    closed = [r for r in effective_reach(platform, identity, ["test"]) if not r.open]
    vectors = workload_vectors("sample-app", ["ci-deployer", "sample-app", "vault-reader", "default"])
    assert len(closed) == 3 * len(vectors)  # create, update, patch x every vector
    assert all("rule workload-identity/" in r.closed_by for r in closed)
    # only vault-reader's own, direct grant remains; nothing of the deployer's
    assert [v.split(" ", 1)[0] for v in check_effective(platform)] == ["system:serviceaccount:test:vault-reader"]


def test_without_policy_the_intent_check_names_the_prohibitions(tmp_path: Path) -> None:
    violations = check_effective(_platform(tmp_path))
    assert any("prohibited 'secrets read' reached effectively: Secrets in test" in v for v in violations)
    assert any("Secrets in vault" in v and "vault-reader" in v for v in violations)
    assert any("'mint service account tokens' reached effectively: token of ServiceAccount test/vault-reader" in v
               for v in violations)  # fmt: skip


EXEC = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: debug, namespace: test}
rules:
  - {apiGroups: [""], resources: [pods/ephemeralcontainers], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: debug, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: debug}
subjects: [{kind: ServiceAccount, name: ci-deployer, namespace: test}]
"""


def test_ephemeral_containers_reach_running_pods_and_count_as_exec(tmp_path: Path) -> None:
    platform = _platform(tmp_path, EXEC, policy=True)
    assert ("test", "running pods' identities and Secrets") in _open(platform)
    assert any("'exec into pods' reached effectively" in v for v in check_effective(platform))


OPERATOR = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: prometheus-operator, namespace: monitoring}
spec: {template: {spec: {serviceAccountName: prometheus-operator, containers: [{name: o, image: o}]}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: monitors, namespace: test}
rules:
  - {apiGroups: [monitoring.coreos.com], resources: [servicemonitors], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: monitors, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: monitors}
subjects: [{kind: ServiceAccount, name: ci-deployer, namespace: test}]
"""
OPERATOR_READS = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator-secrets, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view-secrets}
subjects: [{kind: ServiceAccount, name: prometheus-operator, namespace: monitoring}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view-secrets}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
"""


@pytest.mark.parametrize(("operator_reads", "reached"), [(False, False), (True, True)])
def test_service_monitor_secrets_are_read_by_the_operator(tmp_path: Path, operator_reads: bool, reached: bool) -> None:
    platform = _platform(tmp_path, OPERATOR + (OPERATOR_READS if operator_reads else ""), policy=True)
    identity = Identity(DEPLOYER, impersonated_groups(DEPLOYER))
    via_operator = [
        r for r in effective_reach(platform, identity, ["test"]) if "read by system:serviceaccount" in r.path
    ]
    assert via_operator and all(r.open is reached for r in via_operator)


def test_cli_prints_paths_and_fails_on_prohibited_reach(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "rbac.yaml").write_text(RBAC)
    intent = tmp_path / "permissions.yaml"
    intent.write_text(INTENT)
    args = ["rbac", "effective", "--as", DEPLOYER, "--manifests", str(manifests), "--intent", str(intent)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "PROHIBITED 'secrets read' reached effectively: Secrets in test" in out
    assert "pod spec volumes[].secret.secretName (secret volume)" in out
    (manifests / "policy.yaml").write_text(POLICY_FILE.read_text())
    assert main(args) == 0
    assert "closed: ValidatingAdmissionPolicy 'workload-identity'" in capsys.readouterr().out


def test_cli_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rbac", "effective", "--as", " "]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--as needs a user name" in err


PRIVILEGES = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: act-as, namespace: test}
rules:
  - {apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: act-as, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: act-as}
subjects: [{kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: signer}
rules:
  - {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}
  - {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}
  - apiGroups: [certificates.k8s.io]
    resources: [signers]
    verbs: [approve]
    resourceNames: [kubernetes.io/kube-apiserver-client]
  - {apiGroups: [""], resources: [nodes/proxy], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: signer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: signer}
subjects: [{kind: User, name: bob}]
"""


@pytest.mark.parametrize(
    ("user", "reaches"),
    [
        # impersonating ServiceAccounts is their reach: vault-reader's token, and its grant in vault
        ("alice", {("test", "token of ServiceAccount test/vault-reader"), ("vault", "Secrets")}),
        (
            "bob",
            {
                ("", "any user, by a client certificate it signs (CSR create + approve)"),
                ("", "every pod's identity on every node (kubelet API)"),
            },
        ),
    ],
    ids=["impersonate-serviceaccounts", "csr-approval-and-nodes-proxy"],
)
def test_privilege_verbs_are_reaches(tmp_path: Path, user: str, reaches: set[tuple[str, str]]) -> None:
    reached = _open(_platform(tmp_path, PRIVILEGES, policy=True), user)
    assert reaches <= reached, sorted(reaches - reached)


# --- properties: the platform's policy over combinations of vectors and kinds ---------------------


_POLICIES = PolicySet.from_objects(load_manifests([POLICY_FILE]))
_VECTORS = workload_vectors("sample-app", ["ci-deployer", "argocd-manager", "readonly", "sample2-app", "default"])


@settings(max_examples=60, deadline=None)
@given(
    row=st.sampled_from(POD_PRODUCERS),
    chosen=st.lists(st.sampled_from(_VECTORS), max_size=4, unique_by=lambda v: (v.name, v.reaches)),
    user=st.sampled_from([DEPLOYER, "system:serviceaccount:staging:argocd-manager", "someone@example.com"]),
    operation=st.sampled_from(["CREATE", "UPDATE"]),
)
def test_any_combination_of_vectors_is_refused_for_governed_identities(row, chosen, user, operation) -> None:
    namespace = "staging" if ":staging:" in user else "test"
    obj = workload_object(row[3], namespace, "p", allowed_pod_template(namespace, "sample-app"))
    for vector in chosen:
        vector.apply(pod_specs(obj)[0])
    request = AdmissionRequest(
        operation, row[0], row[1], row[2], row[3], namespace, "p", user, (), server_defaults(obj),
        obj if operation == "UPDATE" else None,
    )  # fmt: skip
    decision = _POLICIES.decide(request)
    governed = user != "someone@example.com"
    assert decision.allowed is (not (governed and chosen)), [v.message for v in decision.denials]
    assert all(v.message.startswith("rule workload-identity/") for v in decision.denials)
