"""The edit operations on hand-written files: what they change, and when they are stale."""

import re

import pytest
import yaml

from verification.mutants.edits import Match, StaleEdit, apply, edit_from_data, parse_path

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: test
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: test}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: staging}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [get]}
  - {apiGroups: [""], resources: [pods], verbs: [get]}
"""


def _apply(data: dict, text: str = MANIFEST) -> list[dict]:
    return list(yaml.safe_load_all(apply(text, edit_from_data(data))))


def test_parse_path() -> None:
    assert parse_path('spec.groups[name=a.b].rules[1]."for"') == (
        "spec",
        "groups",
        Match("name", "a.b"),
        "rules",
        1,
        "for",
    )
    assert parse_path('metadata.labels."pod-security.kubernetes.io/enforce"') == (
        "metadata",
        "labels",
        "pod-security.kubernetes.io/enforce",
    )
    assert parse_path(["data", "policy.default", 0]) == ("data", "policy.default", 0)
    assert parse_path(None) == ()


def test_set_changes_only_the_selected_document() -> None:
    select = {"kind": "Role", "name": "deployer", "namespace": "staging"}
    docs = _apply({"op": "set", "select": select, "path": "rules[0].verbs", "value": ["*"]})
    assert docs[2]["rules"][0]["verbs"] == ["*"]
    assert docs[1]["rules"][0]["verbs"] == ["get", "list"]  # same kind and name, other namespace
    assert docs[0] == yaml.safe_load(MANIFEST.split("---")[0])


def test_set_may_add_a_key_to_an_existing_mapping() -> None:
    docs = _apply({"op": "set", "select": {"kind": "Namespace"}, "path": "metadata.labels.extra", "value": "x"})
    assert docs[0]["metadata"]["labels"] == {"pod-security.kubernetes.io/enforce": "restricted", "extra": "x"}


def test_delete_key_list_element_and_document() -> None:
    ns = {"kind": "Namespace", "name": "test"}
    docs = _apply({"op": "delete", "select": ns, "path": 'metadata.labels."pod-security.kubernetes.io/enforce"'})
    assert docs[0]["metadata"]["labels"] == {}
    staging = {"kind": "Role", "namespace": "staging"}
    docs = _apply({"op": "delete", "select": staging, "path": "rules[1]"})
    assert docs[2]["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]
    docs = _apply({"op": "delete", "select": staging})
    assert [d["metadata"].get("namespace") for d in docs] == [None, "test"]


def test_append_and_rename() -> None:
    select = {"kind": "Role", "namespace": "test"}
    docs = _apply({"op": "append", "select": select, "path": "rules[0].resources", "value": "secrets"})
    assert docs[1]["rules"][0]["resources"] == ["deployments", "secrets"]
    docs = _apply({"op": "rename", "select": select, "path": "rules", "to": "rulez"})
    assert list(docs[1]) == ["apiVersion", "kind", "metadata", "rulez"]  # position kept


def test_list_element_by_key() -> None:
    text = "spec:\n  groups:\n    - name: a\n      interval: 1m\n    - name: b\n      interval: 2m\n"
    docs = _apply({"op": "set", "path": "spec.groups[name=b].interval", "value": "1h"}, text)
    assert docs[0]["spec"]["groups"] == [{"name": "a", "interval": "1m"}, {"name": "b", "interval": "1h"}]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"op": "set", "select": {"kind": "Role", "name": "gone"}, "path": "rules", "value": []}, "0 documents match"),
        ({"op": "set", "select": {"kind": "Role", "name": "deployer"}, "path": "x", "value": 1}, "2 documents match"),
        ({"op": "delete", "select": {"kind": "Namespace"}, "path": "spec.x"}, "no key 'spec'"),
        ({"op": "set", "select": {"kind": "Namespace"}, "path": "metadata.name", "value": "test"}, "changes nothing"),
        ({"op": "append", "select": {"kind": "Namespace"}, "path": "metadata.name", "value": 1}, "append needs a list"),
        ({"op": "delete", "select": {"kind": "Role", "namespace": "test"}, "path": "rules[3]"}, "no list element [3]"),
        ({"op": "replace", "old": "verbs: [get]}", "new": "verbs: ['*']}"}, "occurs 2 time(s), expected 1"),
        ({"op": "replace", "old": "no such text", "new": "x"}, "occurs 0 time(s)"),
        ({"op": "call", "function": "nope"}, "no mutant function 'nope'"),
    ],
)
def test_an_edit_that_does_not_apply_is_stale(data: dict, reason: str) -> None:
    with pytest.raises(StaleEdit, match=re.escape(reason)):
        apply(MANIFEST, edit_from_data(data))


def test_replace_with_count_and_call() -> None:
    edit = edit_from_data({"op": "replace", "old": "verbs: [get]}", "new": "verbs: ['*']}", "count": 2})
    assert apply(MANIFEST, edit).count("verbs: ['*']}") == 2
    edit = edit_from_data({"op": "call", "function": "drop_lines_matching", "args": {"pattern": "pod-security"}})
    assert "pod-security" not in apply(MANIFEST, edit)


def test_gitlab_reference_tags_survive_a_yaml_edit() -> None:
    text = "job:\n  script:\n    - !reference [.setup, script]\n    - make\n  stage: test\n"
    out = apply(text, edit_from_data({"op": "set", "path": "job.stage", "value": "deploy"}))
    assert "!reference [.setup, script]" in out
    assert "stage: deploy" in out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"op": "move", "path": "a"}, "is not one of"),
        ({"op": "set", "path": "a"}, "needs ['value']"),
        ({"op": "delete"}, "needs select"),
        ({"op": "set", "path": "a", "value": 1, "colour": "red"}, "unknown edit field"),
        ({"op": "set", "path": "a", "value": 1, "select": {"app": "x"}}, "select must be"),
    ],
)
def test_malformed_edits_are_named(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        edit_from_data(data)
