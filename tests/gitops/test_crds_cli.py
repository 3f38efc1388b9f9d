"""`platform-verify crds validate|status`: one line per problem, exit 1; a missing cache is exit 2."""

from pathlib import Path

import pytest

from verification.cli import main
from verification.paths import MANIFESTS

BAD_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: typo}
spec:
  project: test
  destination: {server: https://kubernetes.default.svc, namespace: test}
  sourc: {repoURL: https://example.invalid/repo.git, path: x}
"""


def test_validate_names_the_unknown_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.yaml").write_text(BAD_APP)
    assert main(["crds", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{tmp_path / 'app.yaml'}: Application typo: spec: unknown field ('sourc' was unexpected)",
        "1 custom resource(s), 1 problem(s)",
    ]


def test_validate_platform_manifests_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crds", "validate", str(MANIFESTS / "argocd")]) == 0
    assert capsys.readouterr().out.strip().endswith("0 problem(s)")


def test_missing_cache_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    (tmp_path / "app.yaml").write_text(BAD_APP)
    assert main(["crds", "validate", str(tmp_path / "app.yaml")]) == 2
    assert capsys.readouterr().err == (
        "platform-verify: error: CRD schemas not fetched for argocd v3.0.6, prometheus-operator v0.82.2; "
        "run `platform-verify crds fetch`\n"
    )
    assert main(["crds", "status"]) == 1
