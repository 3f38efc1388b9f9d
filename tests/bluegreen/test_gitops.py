"""The GitOps source of truth: colour values written into the app's values file, then synced."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from verification.bluegreen import gitops
from verification.bluegreen.release import Target
from verification.errors import UserError
from verification.models.delivery import chart

TARGET = Target("sample-app", "test", "test")
COLOURS = {
    "activeColor": "green",
    "blue": {"tag": "1.0.0", "version": "1.0.0"},
    "green": {"tag": "1.1.0", "version": "1.1.0"},
}


@pytest.fixture
def values_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "sample-app.yaml"
    shutil.copy(chart.ENVIRONMENTS / "test" / "sample-app.yaml", copy)
    monkeypatch.setattr(gitops, "values_file", lambda _target: copy)
    return copy


def test_write_keeps_header_and_other_keys(values_copy: Path) -> None:
    before = values_copy.read_text()
    gitops.write_colours(values_copy, COLOURS)
    after = values_copy.read_text()
    assert after.startswith(before.splitlines()[0] + "\n")  # the leading comment stays
    data = yaml.safe_load(after)
    assert data["app"] == "sample-app"
    assert data["image"] == {"repository": "registry.example.local/platform/sample-app"}
    assert {k: data[k] for k in ("activeColor", "blue", "green")} == COLOURS


def test_a_pinned_digest_reaches_the_file_argocd_syncs_and_reads_back(values_copy: Path) -> None:
    # Found live (registry image source): the file lost the digest, so ArgoCD would have synced a
    # tag-only image and the plan refused the flip (live TAG@DIGEST against planned TAG).
    pinned = {**COLOURS, "green": {"tag": "1.1.0", "version": "1.1.0", "digest": "sha256:" + "f" * 64}}
    gitops.write_colours(values_copy, pinned)
    assert yaml.safe_load(values_copy.read_text())["green"]["digest"] == "sha256:" + "f" * 64
    assert gitops.GitOpsSource("true", lambda objects: objects).read(TARGET) == pinned


def test_apply_writes_then_runs_the_sync_command_with_context(values_copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "sync.log"
    source = gitops.GitOpsSource(
        f'echo "$BLUEGREEN_APP $BLUEGREEN_ENV $BLUEGREEN_ACTIVE_COLOR $(basename $BLUEGREEN_VALUES_FILE)" > {log}',
        lambda objects: objects,
    )
    source.apply(TARGET, COLOURS)
    assert log.read_text() == "sample-app test green sample-app.yaml\n"
    assert source.read(TARGET) == COLOURS


def test_read_fills_versions_from_tags(values_copy: Path) -> None:
    assert gitops.GitOpsSource("true", lambda objects: objects).read(TARGET) == {
        "activeColor": "blue",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.0.0", "version": "1.0.0"},
    }


def test_a_sync_command_is_required() -> None:
    with pytest.raises(UserError, match="--source gitops needs --sync-command"):
        gitops.GitOpsSource(" ", lambda objects: objects)


@pytest.fixture
def environments_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environments in a scratch copy: the GitOps render reads every values file of the app."""
    copy = tmp_path / "environments"
    shutil.copytree(chart.ENVIRONMENTS, copy)
    monkeypatch.setattr(chart, "ENVIRONMENTS", copy)
    return copy


def synced() -> Callable[[list[dict]], list[dict]]:
    """What ArgoCD synced: the render of the values files as they are now (blue active), with
    fields the server adds (a GitOps plan compares only the rendered ones)."""
    live = [
        {**o, "metadata": {**o["metadata"], "uid": "u-1"}} for o in chart.render("sample-app", "test", "blue").objects
    ]

    def read(objects: list[dict]) -> list[dict]:
        names = {(o["kind"], o["metadata"]["name"]) for o in objects}
        return [o for o in live if (o["kind"], o["metadata"]["name"]) in names]

    return read


def test_gitops_plan_allows_a_flip_of_what_is_synced(environments_copy: Path) -> None:
    plan = gitops.GitOpsSource("true", synced()).plan_flip(TARGET, "switch", "green")
    assert plan.allowed
    assert {(c.obj, c.path) for c in plan.changes} == {
        ("Service/sample-app", "spec.selector.color"),
        ("Service/sample-app-preview", "spec.selector.color"),
    }
    assert plan.values["activeColor"] == "green" and plan.restore["activeColor"] == "blue"


def test_gitops_plan_refuses_a_values_file_edited_since_the_sync(environments_copy: Path) -> None:
    live = synced()
    shared = environments_copy / "test" / "values.yaml"
    shared.write_text(shared.read_text().replace("replicas: 2", "replicas: 3"))
    plan = gitops.GitOpsSource("true", live).plan_flip(TARGET, "switch", "green")
    assert not plan.allowed
    assert {(c.obj, c.path, c.live, c.planned) for c in plan.refused} == {
        ("Deployment/sample-app-blue", "spec.replicas", 2, 3),
        ("Deployment/sample-app-green", "spec.replicas", 2, 3),
    }
