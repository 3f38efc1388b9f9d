"""A cluster built elsewhere: the preflight's refusals (one line, exit 2), the SelfSubjectAccessReview
answers turned into the missing permissions, what counts as ours, and the census diff."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from verification.cluster import census, ownership, preflight
from verification.cluster.cluster import Cluster
from verification.errors import UserError
from verification.paths import REPO_ROOT

DEAD = """\
apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: someone
  user: {token: not-a-token}
contexts:
- name: dead
  context: {cluster: dead, user: someone}
- name: other
  context: {cluster: dead, user: someone}
current-context: dead
"""


@pytest.fixture
def dead_kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(DEAD)
    return path


def _reviewed(asked: list[preflight.Access], denied: set[preflight.Access]) -> list[dict[str, Any]]:
    """The reviews as the API server returns them: the attributes echoed without empty ones."""
    items = []
    for a in asked:
        body = preflight.review(a)
        attributes = {k: v for k, v in body["spec"]["resourceAttributes"].items() if v}
        items.append({**body, "spec": {"resourceAttributes": attributes}, "status": {"allowed": a not in denied}})
    return items


def _replies(asked: list[preflight.Access], denied: set[preflight.Access]) -> str:
    """What `kubectl create -f - -o json` of a List of SelfSubjectAccessReviews prints (measured with
    kubectl v1.33.6 on a kind cluster): one indented JSON object per review, one after the other."""
    return "".join(json.dumps(item, indent=4) + "\n" for item in _reviewed(asked, denied))


def _answered(asked: list[preflight.Access], text: str) -> dict[preflight.Access, bool]:
    return preflight.answers(asked, preflight.documents(text))


def test_every_permission_granted_leaves_nothing_missing() -> None:
    asked = preflight.required()
    assert preflight.missing(_answered(asked, _replies(asked, set()))) == []


def test_denied_answers_become_one_line_naming_each_verb_resource_and_namespace() -> None:
    asked = preflight.required(["test", "staging"])
    denied = {
        preflight.Access("create", "customresourcedefinitions", "apiextensions.k8s.io"),
        preflight.Access("delete", "customresourcedefinitions", "apiextensions.k8s.io"),
        preflight.Access("create", "pods", "", "exec", "test"),
        preflight.Access("create", "pods", "", "exec", "staging"),
        preflight.Access("impersonate", "users"),
    }
    lacking = preflight.missing(_answered(asked, _replies(asked, denied)))
    assert sorted(lacking) == sorted(denied)
    assert preflight.refusal("elsewhere", lacking) == (
        "context 'elsewhere' lacks 5 permissions the suite needs: "
        "create,delete customresourcedefinitions.apiextensions.k8s.io cluster-wide; "
        "create pods/exec in staging,test; impersonate users cluster-wide"
    )


def test_a_review_asks_the_subresource_and_namespace_it_names() -> None:
    body = preflight.review(preflight.Access("create", "pods", "", "exec", "test"))
    assert body["kind"] == "SelfSubjectAccessReview"
    attributes = {"verb": "create", "resource": "pods", "group": "", "subresource": "exec", "namespace": "test"}
    assert body["spec"] == {"resourceAttributes": attributes}
    cluster_scoped = preflight.review(preflight.Access("create", "namespaces"))["spec"]["resourceAttributes"]
    assert "namespace" not in cluster_scoped


def test_the_required_permissions_cover_what_the_stack_deploys() -> None:
    from verification.e2e.stack import NAMESPACES

    assert set(NAMESPACES) == set(preflight.STACK_NAMESPACES)
    asked = {(a.verb, a.what()) for a in preflight.required()}
    for needed in [
        ("create", "namespaces"),
        ("patch", "customresourcedefinitions.apiextensions.k8s.io"),
        ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("create", "validatingadmissionpolicies.admissionregistration.k8s.io"),
        ("create", "pods/exec"),
        ("delete", "namespaces"),
    ]:
        assert needed in asked


def test_fewer_answers_than_questions_is_refused() -> None:
    asked = preflight.required(["test"])
    with pytest.raises(UserError, match=r"asked \d+ questions, got \d+ answers"):
        _answered(asked, _replies(asked[:-1], set()))


def test_answers_pair_by_the_attributes_each_review_echoes_whatever_the_order_or_wrapping() -> None:
    # A permission denied must be reported as that one, even when the replies come in another
    # order, and a List wrapping them is read as well as kubectl's one object after the other.
    asked = preflight.required(["test"])
    denied = {preflight.Access("create", "pods", "", "exec", "test"), preflight.Access("impersonate", "groups")}
    shuffled = list(reversed(_reviewed(asked, denied)))
    as_list = json.dumps({"apiVersion": "v1", "kind": "List", "items": shuffled})
    for text in (as_list, "".join(json.dumps(item) for item in shuffled), _replies(asked, denied)):
        assert preflight.missing(_answered(asked, text)) == sorted(denied)


def test_replies_that_are_not_the_reviews_asked_are_one_line() -> None:
    asked = [preflight.Access("get", "pods", "", "", "test"), preflight.Access("create", "namespaces")]
    with pytest.raises(UserError, match="no answer for create namespaces"):
        _answered(asked, _replies([asked[0], preflight.Access("delete", "namespaces")], set()))
    with pytest.raises(UserError, match="kubectl printed no JSON object at character 0"):
        preflight.documents("error: something else\n")
    assert preflight.documents(" \n") == []


def test_context_missing_from_the_kubeconfig_is_one_line(dead_kubeconfig: Path) -> None:
    with pytest.raises(UserError) as refused:
        preflight.context_of(dead_kubeconfig, "nope")
    assert refused.value.line() == f"context 'nope' is not in {dead_kubeconfig} (contexts: dead, other)"
    assert preflight.context_of(dead_kubeconfig, None) == "dead"
    assert preflight.context_of(dead_kubeconfig, "other") == "other"


def test_absent_or_unreadable_kubeconfig_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        preflight.context_of(tmp_path / "absent", None)
    garbage = tmp_path / "garbage"
    garbage.write_text("clusters: [unclosed\n")
    with pytest.raises(UserError, match=r"--kubeconfig .*garbage: malformed YAML: line 2"):
        preflight.context_of(garbage, None)
    bomb = tmp_path / "bomb"  # expanded by yaml.safe_load: refused by the one loader instead
    bomb.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    )
    with pytest.raises(UserError, match=r"--kubeconfig .*bomb: "):
        preflight.context_of(bomb, None)
    nameless = tmp_path / "nameless"
    nameless.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    with pytest.raises(UserError, match="no current-context; name one with --context"):
        preflight.context_of(nameless, None)


def test_an_unreachable_server_is_one_line(dead_kubeconfig: Path) -> None:
    # Bounded by kubectl's --request-timeout and the process timeout (preflight.REACH_SECONDS):
    # a refused connection returns at once, a silent one at that deadline.
    with pytest.raises(UserError) as refused:
        preflight.reachable(Cluster("dead", dead_kubeconfig, "existing", "existing", context="dead"), "dead")
    line = refused.value.line()
    assert line.startswith(f"context 'dead' in {dead_kubeconfig} does not answer: ")
    assert "127.0.0.1:1" in line and "\n" not in str(refused.value)


def test_the_cli_refuses_an_unreachable_context_with_exit_2_and_one_line(dead_kubeconfig: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "verification", "cluster", "preflight", "--kubeconfig", str(dead_kubeconfig)],
        capture_output=True,
        text=True,
        timeout=preflight.REACH_SECONDS + 30,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("platform-verify: error: context 'dead' in ")


def test_the_e2e_suite_refuses_a_missing_context_with_exit_2_before_any_test(dead_kubeconfig: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "verification/e2e/test_cluster_smoke.py",
            "-p",
            "no:cacheprovider",
            "-q",
            "--cluster",
            "existing",
            "--kubeconfig",
            str(dead_kubeconfig),
            "--context",
            "nope",
            f"--artifacts={dead_kubeconfig.parent}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    refusals = [line for line in proc.stdout.splitlines() if "--cluster existing refused" in line]
    assert len(refusals) == 1
    assert f"context 'nope' is not in {dead_kubeconfig} (contexts: dead, other)" in refusals[0]
    assert " passed" not in proc.stdout


def test_only_objects_carrying_our_label_are_ours() -> None:
    ours = {"kind": "Namespace", "metadata": {"name": "test", "labels": {ownership.MANAGED_BY: "platform-verify"}}}
    theirs = {"kind": "ClusterRole", "metadata": {"name": "admin", "labels": {ownership.MANAGED_BY: "helm"}}}
    bare = {"kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "monitoring"}}
    assert ownership.foreign([ours, theirs, bare]) == ["ClusterRole/admin", "ConfigMap/cfg in monitoring"]
    assert ownership.selector("ab12") == "app.kubernetes.io/managed-by=platform-verify,platform-verify.io/run=ab12"


def test_census_counts_per_kind_and_namespace_and_diffs() -> None:
    items = [
        {"kind": "Pod", "metadata": {"name": "a", "namespace": "kube-system"}},
        {"kind": "Pod", "metadata": {"name": "b", "namespace": "kube-system"}},
        {"kind": "ClusterRole", "metadata": {"name": "admin"}},
    ]
    before = census.count(items)
    assert before == {"ClusterRole (cluster)": 1, "Pod kube-system": 2}
    after = census.count([*items[1:], {"kind": "Namespace", "metadata": {"name": "test"}}])
    assert census.diff(before, after) == ["Namespace (cluster): 0 -> 1", "Pod kube-system: 2 -> 1"]
    assert census.diff(before, dict(before)) == []


def test_a_census_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"Pod kube-system": "two"}')
    with pytest.raises(UserError, match="not a census written by `cluster census --out`"):
        census.load(wrong)


class _Recorder:
    """Stands in for a Cluster in the teardown plan: answers `kubectl` from a set of live objects."""

    def __init__(self, live: set[str]) -> None:
        self.live = live
        self.calls: list[tuple[str, ...]] = []

    def kubectl(self, *args: str, **_: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[0] == "api-resources":
            out = "namespaces\ncustomresourcedefinitions.apiextensions.k8s.io\nclusterroles.rbac.authorization.k8s.io\n"
        elif args[0] == "get":
            out = "\n".join(sorted(self.live))
        else:  # delete: gone at once
            self.live -= set(args[1:])
            out = ""
        return subprocess.CompletedProcess(args, 0, out, "")


def test_teardown_deletes_namespaces_then_cluster_objects_then_crds_and_waits_until_gone() -> None:
    ours = {
        "namespace/test",
        "clusterrole.rbac.authorization.k8s.io/platform-viewer",
        "customresourcedefinition.apiextensions.k8s.io/prometheuses.monitoring.coreos.com",
    }
    fake = _Recorder(set(ours))
    removed = ownership.remove(fake, "ab12")  # type: ignore[arg-type]
    assert sorted(removed) == sorted(ours) and not fake.live
    deletes = [c[1:-2] for c in fake.calls if c[0] == "delete"]
    assert deletes == [
        ("namespace/test",),
        ("clusterrole.rbac.authorization.k8s.io/platform-viewer",),
        ("customresourcedefinition.apiextensions.k8s.io/prometheuses.monitoring.coreos.com",),
    ]
    gets = [c for c in fake.calls if c[0] == "get"]
    assert all(ownership.selector("ab12") in c for c in gets)
    assert "namespaces,customresourcedefinitions.apiextensions.k8s.io,clusterroles.rbac.authorization.k8s.io" in gets[0]


@pytest.mark.parametrize("action", ["up", "down"])
@pytest.mark.parametrize("option", [["--kubeconfig", "k.yaml"], ["--context", "kind-x"], ["--out", "o.json"]])
def test_kind_actions_refuse_options_of_a_cluster_built_elsewhere(
    action: str, option: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused before the kind cluster is touched: up/down would ignore them (and down deletes).
    from verification.cli import main
    from verification.cluster import cluster

    def touched(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kind cluster was touched")

    monkeypatch.setattr(cluster, "up", touched)
    monkeypatch.setattr(cluster, "down", touched)
    assert main(["cluster", action, *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cluster {action} acts on the kind cluster" in err[0] and option[0] in err[0], err


class _Finalized:
    """A cluster whose namespace `argocd` of run ab12 is deleted but kept by an Application's
    finalizer (no ArgoCD runs to remove it), until the finalizer is patched away."""

    def __init__(self) -> None:
        self.patches: list[tuple[str, ...]] = []
        self.finalized = True

    def kubectl(self, *args: str, **_: object) -> subprocess.CompletedProcess[str]:
        out = ""
        if args[0] == "api-resources":
            out = "namespaces\n" if "--namespaced=false" in args else "configmaps\napplications.argoproj.io\n"
        elif args[0] == "get" and "-l" in args:  # this run's objects
            out = "namespace/argocd" if self.finalized else ""
        elif args[:2] == ("get", "namespaces"):  # the namespace, as the namespace controller reports it
            held = {"type": "NamespaceFinalizersRemaining", "status": "True"}
            status = {"phase": "Terminating", "conditions": [held] if self.finalized else []}
            # one name asked: kubectl prints the object itself, not a List (measured live)
            out = json.dumps({"kind": "Namespace", "metadata": {"name": "argocd"}, "status": status})
        elif args[0] == "-n" and args[2] == "get":
            deleted = {"deletionTimestamp": "2026-12-07T07:59:15Z"}
            items = [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "left", "finalizers": ["x/y"]}},
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": {
                        "name": "sample-app",
                        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                        **deleted,
                    },
                },
            ]
            out = json.dumps({"items": items})
        elif args[0] == "-n" and args[2] == "patch":
            self.patches.append(args)
            self.finalized = False
        return subprocess.CompletedProcess(args, 0, out, "")


def test_teardown_releases_finalizers_that_no_controller_of_the_run_removes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Live: the run's namespace argocd stayed Terminating ("Some content in the namespace has
    # finalizers remaining: resources-finalizer.argocd.argoproj.io in 10 resource instances") and
    # teardown waited its 600 s out. Only deleted objects still held are released; not the others.
    monkeypatch.setattr(ownership, "DELETE_SECONDS", 10)  # without the release: a timeout, not a 10-minute hang
    fake = _Finalized()
    assert ownership.remove(fake, "ab12") == ["namespace/argocd"]  # type: ignore[arg-type]
    assert fake.patches == [
        ("-n", "argocd", "patch", "application.argoproj.io/sample-app", "--type=merge", "-p",
         '{"metadata":{"finalizers":null}}'),
    ]  # fmt: skip
    assert ownership.release(fake, ["argocd"]) == []  # type: ignore[arg-type]  # no longer held
