"""Resource names as kubectl reads them, and strict reading of the permissions intent."""

from pathlib import Path

import pytest

from verification.errors import UserError
from verification.models.rbac.authorizer import Authorizer
from verification.models.rbac.checks import check_binding_subjects, check_intent, check_prohibited, check_wildcards
from verification.models.rbac.intent import load_intent
from verification.models.rbac.resources import ResourceCatalog

CATALOG = ResourceCatalog()


@pytest.mark.parametrize(
    ("text", "resource", "subresource", "group", "namespaced"),
    [
        ("pods", "pods", "", "", True),
        ("po", "pods", "", "", True),
        ("pod", "pods", "", "", True),
        ("pods/log", "pods", "log", "", True),
        ("deployments.apps", "deployments", "", "apps", True),
        ("deploy", "deployments", "", "apps", True),
        ("deployments.v1.apps", "deployments", "", "apps", True),
        ("deployments.apps/scale", "deployments", "scale", "apps", True),
        ("events", "events", "", "", True),  # core wins, as in kubectl
        ("events.events.k8s.io", "events", "", "events.k8s.io", True),
        ("nodes", "nodes", "", "", False),
        ("ingresses.networking.k8s.io", "ingresses", "", "networking.k8s.io", True),
        ("servicemonitors", "servicemonitors", "", "monitoring.coreos.com", True),
        ("widgets.example.com", "widgets", "", "example.com", None),
        ("*", "*", "", "", None),
        ("*/scale", "*", "scale", "", None),
    ],
)
def test_resolve(text: str, resource: str, subresource: str, group: str, namespaced: bool | None) -> None:
    found = CATALOG.resolve(text)
    assert (found.resource, found.subresource, found.group, found.namespaced) == (
        resource,
        subresource,
        group,
        namespaced,
    )


def test_crds_in_the_manifests_extend_the_catalog() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"plural": "widgets", "shortNames": ["wd"]}},
    }
    found = ResourceCatalog.with_crds([crd]).resolve("wd")
    assert (found.resource, found.group, found.namespaced) == ("widgets", "example.com", False)


@pytest.mark.parametrize("text", ["", "pods/", "pods/log/x", "Pods", "pods.", "deployments.apps/Scale", "a b"])
def test_bad_resource_syntax(text: str) -> None:
    with pytest.raises(UserError, match="bad resource"):
        CATALOG.resolve(text)


def test_unknown_resource_without_group() -> None:
    with pytest.raises(UserError, match="unknown resource 'widgets'"):
        CATALOG.resolve("widgets")


# --- intent -------------------------------------------------------------------------------------------

ROLES = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: test, annotations: {platform-verify/source: roles.yaml}}
rules: [{apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: test, annotations: {platform-verify/source: bindings.yaml}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: User, name: alice}, {kind: Group, name: "system:authenticated"}]
"""


def _intent(tmp_path: Path, text: str, authorizer: Authorizer | None = None):
    path = tmp_path / "permissions.yaml"
    path.write_text(text)
    return load_intent((authorizer or Authorizer()).catalog, path)


def _authorizer() -> Authorizer:
    from verification.yamlio import load_documents_from_text

    return Authorizer.from_objects(load_documents_from_text(ROLES, "roles"), defaults=False)


def test_intent_expands_verbs_resources_and_namespaces(tmp_path: Path) -> None:
    intent = _intent(
        tmp_path,
        "identities:\n  - user: alice\n    allow:\n"
        "      - {verbs: [get, list], resources: [pods, deployments.apps], namespaces: [a, b]}\n",
    )
    assert len(intent.identities[0].allow) == 8
    assert intent.identities[0].identity.groups == ("system:authenticated",)


def test_intent_failures_name_identity_request_expectation_and_source(tmp_path: Path) -> None:
    authorizer = _authorizer()
    intent = _intent(
        tmp_path,
        "identities:\n  - user: alice\n    allow: [{verb: list, resource: pods, namespace: test}]\n"
        "    deny: [{verb: get, resource: secrets, namespace: test}]\n",
        authorizer,
    )
    verdict = check_intent(authorizer, intent)
    first, second = verdict.differing_rows
    assert (first.subject, first.expected, first.observed) == ("alice: list pods in namespace test", "allow", "deny")
    assert first.cause.startswith("no rule grants it")
    assert "RoleBinding test/reader -> Role test/reader [bindings.yaml]" in first.cause
    assert (second.subject, second.expected, second.observed) == (
        "alice: get secrets in namespace test",
        "deny",
        "allow",
    )
    assert second.cause.startswith("by RoleBinding") and "[roles.yaml]" in second.cause
    rendered = verdict.render()
    assert rendered.startswith(f"the RBAC model against {intent.source}: 2 of 2 rows differ")
    assert "alice: list pods in namespace test" in rendered and "[roles.yaml]" in rendered


def test_prohibitions_reach_binding_subjects_not_in_the_intent(tmp_path: Path) -> None:
    authorizer = _authorizer()
    intent = _intent(
        tmp_path, "prohibited:\n  - {name: secrets read, verbs: [get], resources: [secrets]}\n", authorizer
    )
    found = check_prohibited(authorizer, intent)
    assert any(v.startswith("alice (subject of RoleBinding test/reader") for v in found), found
    assert any("(a member of group system:authenticated)" in v for v in found), found
    assert len(found) == 2


def test_admins_are_exempt(tmp_path: Path) -> None:
    authorizer = _authorizer()
    text = "admins: {users: [alice], groups: [system:authenticated]}\n"
    text += "prohibited:\n  - {name: secrets read, verbs: [get], resources: [secrets]}\n"
    assert check_prohibited(authorizer, _intent(tmp_path, text, authorizer)) == []


def test_binding_to_system_authenticated_is_named(tmp_path: Path) -> None:
    found = check_binding_subjects(_authorizer())
    assert found == [
        "RoleBinding test/reader [bindings.yaml] binds Group system:authenticated to Role test/reader: "
        "that grants it to every authenticated user"
    ]


def test_wildcard_role_must_be_an_admin_role(tmp_path: Path) -> None:
    from verification.yamlio import load_documents_from_text

    text = ROLES.replace('verbs: ["get"]', 'verbs: ["*"]')
    authorizer = Authorizer.from_objects(load_documents_from_text(text, "roles"), defaults=False)
    found = check_wildcards(authorizer, _intent(tmp_path, "admins: {roles: []}\n", authorizer))
    assert found[0].startswith("Role test/reader [roles.yaml]: wildcard rule")
    assert any(v.startswith("alice (subject of RoleBinding test/reader") for v in found)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("identities:\n  - user: a\n    allow: [{verb: get, resource: pods}]\n", "exactly one of namespace(s)"),
        ("identities:\n  - user: a\n    allow: [{verb: get, resource: nodes, namespace: x}]\n", "cluster-scoped"),
        ("identities:\n  - user: a\n    allow: [{verb: get, resource: podz, namespace: x}]\n", "unknown resource"),
        ("identities:\n  - user: a\n    alow: []\n", "unknown field(s) alow"),
        ("identities:\n  - user: a\n    deny: [{verb: get, url: metrics}]\n", "starts with /"),
        ("identities:\n  - user: a\n    deny: [{resource: pods, cluster: true}]\n", "verb is required"),
        ("prohibited:\n  - {name: x, verbs: [get]}\n", "name, verbs and resources are required"),
        ("admin: {}\n", "unknown field(s) admin"),
        ("identities: [\n", "malformed YAML"),
    ],
)
def test_bad_intent_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        _intent(tmp_path, text)
    assert message in str(caught.value) and "permissions.yaml" in str(caught.value)


def test_exemption_holds_only_in_its_namespaces(tmp_path: Path) -> None:
    authorizer = _authorizer()
    base = "prohibited:\n  - {name: secrets read, verbs: [get], resources: [secrets]}\n"
    exempt_here = base + "exemptions:\n  - {user: alice, prohibited: [secrets read], namespaces: [test], why: needed}\n"
    exempt_elsewhere = exempt_here.replace("namespaces: [test]", "namespaces: [staging]")
    here = check_prohibited(authorizer, _intent(tmp_path, exempt_here, authorizer))
    elsewhere = check_prohibited(authorizer, _intent(tmp_path, exempt_elsewhere, authorizer))
    assert not any(v.startswith("alice ") for v in here), here
    assert any(v.startswith("alice ") for v in elsewhere), elsewhere


@pytest.mark.parametrize(
    ("exemption", "message"),
    [
        ("{user: a, prohibited: [secrets read], namespaces: [x]}", "user and why are required"),
        ("{user: a, prohibited: [nope], namespaces: [x], why: w}", "must name entries of `prohibited`"),
        ("{user: a, prohibited: [secrets read], why: w}", "never hold cluster-wide"),
    ],
)
def test_bad_exemptions(tmp_path: Path, exemption: str, message: str) -> None:
    text = "prohibited:\n  - {name: secrets read, verbs: [get], resources: [secrets]}\n"
    with pytest.raises(UserError, match="exemptions") as caught:
        _intent(tmp_path, text + f"exemptions:\n  - {exemption}\n")
    assert message in str(caught.value)


def test_expectations_list_every_intent_request_with_both_answers(tmp_path: Path) -> None:
    from verification.models.rbac.checks import expectations

    authorizer = _authorizer()
    intent = _intent(
        tmp_path,
        "identities:\n  - user: alice\n    allow: [{verb: get, resource: pods, namespace: test}]\n"
        "    deny: [{verb: delete, resource: pods, namespace: test}]\n",
        authorizer,
    )
    found = [(e.request.verb, e.intended, e.modelled) for e in expectations(authorizer, intent)]
    assert found == [("get", True, True), ("delete", False, False)]
