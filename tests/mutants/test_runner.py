"""The runner on a small repository of its own: a real pytest run per mutant, on per-worker copies."""

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from verification.mutants import report
from verification.mutants.catalog import Mutant, load
from verification.mutants.runner import Outcome, Result, classify, first_failure, make_workspace, run_all

# The repository's "conformance suite": one check on the platform file, the other value unchecked.
CHECK = """
import yaml
from pathlib import Path

def test_quota_exists():
    docs = list(yaml.safe_load_all(Path("platform/ns.yaml").read_text()))
    assert any(d["kind"] == "ResourceQuota" for d in docs), "namespace test has no ResourceQuota"
"""
PLATFORM = """\
apiVersion: v1
kind: Namespace
metadata: {name: test, labels: {team: a}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: test}
spec: {hard: {pods: "10"}}
"""
CATALOG = """\
- id: quotas-quota-deleted
  description: the quota is deleted
  file: platform/ns.yaml
  edits: [{op: delete, select: {kind: ResourceQuota, name: compute}}]
- id: quotas-pods-raised
  description: the quota allows 1000 pods
  file: platform/ns.yaml
  edits: [{op: set, select: {kind: ResourceQuota}, path: spec.hard.pods, value: "1000"}]
- id: quotas-team-label
  description: the namespace's team label changes
  file: platform/ns.yaml
  edits: [{op: set, select: {kind: Namespace}, path: metadata.labels.team, value: b}]
  equivalent: the team label is documentation only; nothing selects on it
- id: quotas-limitrange-deleted
  description: the LimitRange is deleted (there is none any more)
  file: platform/ns.yaml
  edits: [{op: delete, select: {kind: LimitRange}}]
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "platform").mkdir()
    (root / "platform" / "ns.yaml").write_text(PLATFORM)
    (root / "verification" / "conformance").mkdir(parents=True)
    (root / "verification" / "conformance" / "test_quota.py").write_text(CHECK)
    (root / "catalog").mkdir()
    (root / "catalog" / "quotas.yaml").write_text(CATALOG)
    return root


@pytest.fixture(scope="module")
def results(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    where = tmp_path_factory.mktemp("workspaces")
    workspaces = [make_workspace(repo, where / f"w{i}") for i in range(2)]
    seen: list[tuple[str, int, int]] = []
    done = run_all(load(repo / "catalog"), workspaces, progress=lambda r, n, total: seen.append((r.id, n, total)))
    assert sorted(n for _, n, _ in seen) == [1, 2, 3, 4] and {t for _, _, t in seen} == {4}
    for workspace in workspaces:  # every copy is back to the original after its mutants
        assert (workspace / "platform" / "ns.yaml").read_text() == PLATFORM
    return {r.id: r for r in done}


def test_killed_mutant_names_the_first_failing_test(results: dict[str, Result]) -> None:
    killed = results["quotas-quota-deleted"]
    assert killed.outcome == "killed"
    assert killed.killed_by is not None
    assert killed.killed_by.startswith("verification/conformance/test_quota.py::test_quota_exists")
    assert "namespace test has no ResourceQuota" in killed.killed_by


def test_unchecked_change_survives(results: dict[str, Result]) -> None:
    assert results["quotas-pods-raised"].outcome == "survived"
    assert results["quotas-pods-raised"].killed_by is None


def test_equivalent_mutant_is_not_run_and_keeps_its_reason(results: dict[str, Result]) -> None:
    equivalent = results["quotas-team-label"]
    assert (equivalent.outcome, equivalent.seconds) == ("equivalent", 0.0)
    assert equivalent.detail == "the team label is documentation only; nothing selects on it"


def test_edit_that_no_longer_applies_is_stale_not_survivor(results: dict[str, Result]) -> None:
    stale = results["quotas-limitrange-deleted"]
    assert stale.outcome == "stale"
    assert stale.detail is not None
    assert stale.detail.startswith("stale mutant: platform/ns.yaml: edit 1 (delete <document> in kind=LimitRange)")


def test_report_figures_and_exit(results: dict[str, Result], tmp_path: Path) -> None:
    ordered = list(results.values())
    figures = report.summary(ordered, 12.34, 2)
    assert figures["killed"] == 1 and figures["survived"] == 1 and figures["stale"] == 1
    assert figures["non_equivalent_applicable"] == 2 and figures["kill_rate"] == 0.5
    assert report.failed(ordered)
    assert not report.failed([results["quotas-quota-deleted"], results["quotas-team-label"]])
    text = report.render(ordered, figures)
    assert "kill rate 50.0% (1/2 non-equivalent applicable)" in text
    assert "quotas-pods-raised: the quota allows 1000 pods" in text
    path = report.write_json(ordered, figures, tmp_path / "mutants" / "report.json", {"areas": ["quotas"]})
    data = json.loads(path.read_text())
    assert data["summary"]["kill_rate"] == 0.5
    assert {m["id"]: m["outcome"] for m in data["mutants"]}["quotas-quota-deleted"] == "killed"


def test_workspace_from_a_revision_ignores_uncommitted_edits(repo: Path, tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "platform"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    (repo / "platform" / "ns.yaml").write_text(PLATFORM + "# edit in progress\n")
    try:
        copy = make_workspace(repo, tmp_path / "w", "HEAD")
        assert (copy / "platform" / "ns.yaml").read_text() == PLATFORM
    finally:
        (repo / "platform" / "ns.yaml").write_text(PLATFORM)


@pytest.mark.parametrize(
    ("returncode", "output", "outcome"),
    [
        (0, "1 passed", "survived"),
        (1, "FAILED verification/conformance/test_a.py::test_b - AssertionError: x\n", "killed"),
        (2, "ERROR verification/conformance/test_a.py - UserError: bad\n", "killed"),  # collection error
        (5, "no tests ran", "error"),
        (-1, "(timed out after 5s)", "error"),
        (1, "internal error without a summary line", "error"),
    ],
)
def test_classification_by_pytest_outcome(returncode: int, output: str, outcome: str) -> None:
    mutant = _one_mutant()
    result = classify(mutant, Outcome(returncode, output, 1.0, first_failure(output)))
    assert result.outcome == outcome
    if outcome == "error":
        assert result.detail


def _one_mutant() -> Mutant:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "quotas.yaml").write_text(CATALOG)
        return load(Path(tmp))[0]


def test_an_edit_that_leaves_malformed_yaml_is_stale_not_a_kill(repo: Path) -> None:
    from verification.mutants.edits import StaleEdit
    from verification.mutants.runner import mutated_files

    broken = CATALOG.split("- id: quotas-pods-raised")[0].replace(
        "edits: [{op: delete, select: {kind: ResourceQuota, name: compute}}]",
        'edits: [{op: replace, old: "spec: {hard:", new: "spec: {hard: : :"}]',
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "quotas.yaml").write_text(broken)
        mutant = load(Path(tmp))[0]
    with pytest.raises(StaleEdit, match="the edits leave malformed YAML"):
        mutated_files(mutant, repo)
