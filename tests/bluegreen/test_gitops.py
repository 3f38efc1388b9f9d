"""The GitOps source of truth: colour values written into the app's values file, then synced."""

import shutil
from pathlib import Path

import pytest
import yaml

from verification.bluegreen import gitops
from verification.bluegreen.release import Target
from verification.errors import UserError
from verification.models import bluegreen as chart

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


def test_apply_writes_then_runs_the_sync_command_with_context(values_copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "sync.log"
    source = gitops.GitOpsSource(
        f'echo "$BLUEGREEN_APP $BLUEGREEN_ENV $BLUEGREEN_ACTIVE_COLOR $(basename $BLUEGREEN_VALUES_FILE)" > {log}'
    )
    source.apply(TARGET, COLOURS)
    assert log.read_text() == "sample-app test green sample-app.yaml\n"
    assert source.read(TARGET) == COLOURS


def test_read_fills_versions_from_tags(values_copy: Path) -> None:
    assert gitops.GitOpsSource("true").read(TARGET) == {
        "activeColor": "blue",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.0.0", "version": "1.0.0"},
    }


def test_a_sync_command_is_required() -> None:
    with pytest.raises(UserError, match="--source gitops needs --sync-command"):
        gitops.GitOpsSource(" ")
