"""`platform-verify rbac can-i`: answers, exit codes, and one-line errors for bad input."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verification.cli import main
from verification.paths import MANIFESTS, REPO_ROOT

MANIFEST = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: test}
rules:
  - apiGroups: ["apps"]
    resources: ["deployments", "deployments/scale"]
    verbs: ["get", "update"]
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["settings"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
  - {kind: ServiceAccount, name: ci, namespace: test}
  - {kind: Group, name: release-managers}
---
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: metrics}
    rules: [{nonResourceURLs: ["/metrics"], verbs: ["get"]}]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: metrics}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
    subjects: [{kind: Group, name: "system:serviceaccounts:test"}]
"""
CI = "system:serviceaccount:test:ci"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "m" / "nested"
    folder.mkdir(parents=True)
    (folder / "rbac.yaml").write_text(MANIFEST)
    return tmp_path / "m"


def _ask(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["rbac", "can-i", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "answer"),
    [
        (["update", "deployments.apps", "-n", "test", "--as", CI], "yes"),
        (["update", "deploy", "-n", "test", "--as", CI], "yes"),  # short name
        (["update", "deployments.apps/scale", "-n", "test", "--as", CI], "yes"),
        (["update", "deployments.apps/status", "-n", "test", "--as", CI], "no"),
        (["update", "deployments.apps", "-n", "staging", "--as", CI], "no"),
        (["update", "deployments.apps", "--as", CI], "no"),  # cluster-wide: RoleBindings do not count
        (["delete", "deployments.apps", "-n", "test", "--as", CI], "no"),
        (["get", "configmaps", "settings", "-n", "test", "--as", CI], "yes"),
        (["get", "configmaps", "other", "-n", "test", "--as", CI], "no"),
        (["get", "configmaps", "-n", "test", "--as", CI], "no"),
        (["get", "deployments.apps", "-n", "test", "--as", "carol", "--as-group", "release-managers"], "yes"),
        (["get", "deployments.apps", "-n", "test", "--as", "carol"], "no"),
        (["get", "/metrics", "--as", CI], "yes"),  # via system:serviceaccounts:test
        (["get", "/metrics", "--as", "system:serviceaccount:staging:ci"], "no"),
        (["get", "/version", "--as", "system:anonymous"], "yes"),  # Kubernetes default role
    ],
)
def test_answers(capsys: pytest.CaptureFixture[str], manifests: Path, argv: list[str], answer: str) -> None:
    code, out, err = _ask(capsys, *argv, "--manifests", str(manifests))
    assert (out, code) == (answer + "\n", 0 if answer == "yes" else 1), err


def test_several_manifest_paths(capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
        "subjects: [{kind: User, name: dana}]\n"
    )
    args = ["list", "pods", "-n", "test", "--as", "dana", "--manifests", str(manifests)]
    assert _ask(capsys, *args)[:2] == (1, "no\n")
    assert _ask(capsys, *args, "--manifests", str(extra))[:2] == (0, "yes\n")


def test_explain_names_the_binding_and_keeps_stdout_clean(capsys: pytest.CaptureFixture[str], manifests: Path) -> None:
    code, out, err = _ask(
        capsys, "get", "deployments.apps", "-n", "test", "--as", CI, "--manifests", str(manifests), "--explain"
    )
    assert (code, out) == (0, "yes\n")
    assert "RoleBinding test/deployer" in err and "rbac.yaml" in err


def test_platform_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--manifests", str(MANIFESTS)]
    assert (
        _ask(
            capsys, "create", "deployments.apps", "-n", "test", "--as", "system:serviceaccount:test:ci-deployer", *base
        )[0]
        == 0
    )
    assert _ask(capsys, "get", "secrets", "-n", "test", "--as", "system:serviceaccount:test:readonly", *base)[0] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["get", "pods/log/extra", "-n", "test", "--as", "a"], "bad resource"),
        (["get", "Pods", "-n", "test", "--as", "a"], "bad resource"),
        (["get", "deploymnets", "-n", "test", "--as", "a"], "unknown resource 'deploymnets'"),
        (["get", "/metrics", "name", "--as", "a"], "takes no NAME"),
        (["g et", "pods", "--as", "a"], "bad verb"),
    ],
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], manifests: Path, argv: list[str], message: str) -> None:
    code, out, err = _ask(capsys, *argv, "--manifests", str(manifests))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("platform-verify: error: ") and message in err, err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: Role\n  bad: [indent\n", "malformed YAML"),
        (MANIFEST.replace("kind: RoleBinding", "kind: RoleBindin"), "unknown kind 'RoleBindin'"),
        (MANIFEST.replace('verbs: ["get", "update"]', 'verb: ["get"]'), "unknown field(s) verb"),
    ],
)
def test_bad_manifests(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, out, err = _ask(capsys, "get", "pods", "--as", "a", "--manifests", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and str(path) in err, err


def test_missing_manifest_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _ask(capsys, "get", "pods", "--as", "a", "--manifests", str(tmp_path / "nope"))
    assert code == 2 and "no such file or directory" in err and err.count("\n") == 1


def test_exit_codes_and_errors_of_the_real_process(manifests: Path, tmp_path: Path) -> None:
    """The console entry point as scripts run it: exit 0/1/2, one stderr line, never a traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: []\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        code = "from verification.cli import entrypoint; entrypoint()"
        cmd = [sys.executable, "-c", code, "rbac", "can-i", *argv]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    yes = run("get", "deployments.apps", "-n", "test", "--as", CI, "--manifests", str(manifests))
    no = run("get", "deployments.apps", "-n", "staging", "--as", CI, "--manifests", str(manifests))
    broken = run("get", "pods", "--as", CI, "--manifests", str(bad))
    assert (yes.returncode, yes.stdout) == (0, "yes\n"), yes.stderr
    assert (no.returncode, no.stdout) == (1, "no\n"), no.stderr
    assert broken.returncode == 2 and broken.stdout == ""
    assert broken.stderr.count("\n") == 1 and "needs metadata.namespace" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_check_names_the_violation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copytree(MANIFESTS, tmp_path / "m")
    (tmp_path / "m" / "oops.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: oops}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n"
        "subjects: [{kind: ServiceAccount, name: default, namespace: test}]\n"
    )
    assert main(["rbac", "check", "--manifests", str(tmp_path / "m")]) == 1
    out = capsys.readouterr().out
    assert "FAIL binding subjects" in out and "ClusterRoleBinding oops" in out and "`default` service account" in out
    # edit carries secrets read and pods/exec (Kubernetes' own aggregate-to-edit)
    assert "system:serviceaccount:test:default" in out and "'exec into pods'" in out


def test_subject_access_review_of_a_request() -> None:
    from verification.models.rbac.authorizer import Request

    resource = Request("u", ("g",), "get", "deployments", "scale", "apps", "test", "web")
    assert resource.subject_access_review()["spec"] == {
        "user": "u",
        "groups": ["g"],
        "resourceAttributes": {
            "verb": "get",
            "group": "apps",
            "resource": "deployments",
            "subresource": "scale",
            "namespace": "test",
            "name": "web",
        },
    }
    url = Request("u", (), "get", path="/metrics")
    assert url.subject_access_review()["spec"]["nonResourceAttributes"] == {"verb": "get", "path": "/metrics"}


def test_cluster_scoped_resource_with_namespace_warns_and_asks_as_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # a SubjectAccessReview with a namespace visits that namespace's RoleBindings, whatever the resource
    path = tmp_path / "nodes.yaml"
    path.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: nodes}\n"
        "rules: [{apiGroups: [''], resources: [nodes], verbs: [get]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: nodes, namespace: test}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nodes}\n"
        "subjects: [{kind: User, name: erin}]\n"
    )
    code, out, err = _ask(capsys, "get", "nodes", "-n", "test", "--as", "erin", "--manifests", str(path))
    assert (code, out) == (0, "yes\n") and "not namespace scoped" in err
    assert _ask(capsys, "get", "nodes", "--as", "erin", "--manifests", str(path))[:2] == (1, "no\n")
